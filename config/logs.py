"""
Log lines without signers' private data (README, "Privacy"): e-mail addresses
and the secret part of a signer's links (/confirm/, /manage/, …: whoever holds
one acts as the signer) are blanked in every line the site logs, tracebacks
included. `RedactingFormatter` is the formatter of the LOGGING handlers;
config/gunicorn_logs.py does the same for gunicorn's access log.
"""

import logging
import re

_SEPARATORS = r"\s@'\"<>(){}\[\],;:"
ADDRESS = re.compile(rf"[^{_SEPARATORS}]+@[^{_SEPARATORS}]+\.[^{_SEPARATORS}]+")
LINK = re.compile(r"(/(?:confirm|confirm-correction|manage|withdraw)/)[^/?#\s\"'<>]+")


def redact(text: str) -> str:
    """`text` with every e-mail address and every signer's link token blanked."""
    return LINK.sub(r"\1[link]", ADDRESS.sub("[address]", text))


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))

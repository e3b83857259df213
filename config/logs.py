"""
Log lines without signers' private data (README, "Privacy"): e-mail addresses,
the secret part of a signer's links (/confirm/, /manage/, /invitations/, …:
whoever holds one acts as the signer) and a circulating letter's `?key=` are
blanked in every line the site logs, tracebacks included. `RedactingFormatter`
is the formatter of the LOGGING handlers;
config/gunicorn_logs.py does the same for gunicorn's access log.
"""

import logging
import re

_SEPARATORS = r"\s@'\"<>(){}\[\],;:"
ADDRESS = re.compile(rf"[^{_SEPARATORS}]+@[^{_SEPARATORS}]+\.[^{_SEPARATORS}]+")
LINK_PATHS = "confirm|confirm-correction|confirm-address|manage|withdraw|invitations"
LINK = re.compile(rf"(/(?:{LINK_PATHS})/)[^/?#\s\"'<>]+")
# The private key of a circulating letter (`Letter.private_url`): whoever holds it reads the draft.
KEY = re.compile(r"([?&]key=)[^&#\s\"'<>]+")


def redact(text: str) -> str:
    """`text` with every e-mail address, signer's or invitation link token and private key blanked."""
    return KEY.sub(r"\1[key]", LINK.sub(r"\1[link]", ADDRESS.sub("[address]", text)))


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))

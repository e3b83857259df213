"""
The development e-mail backend: every message printed on the console as a
person reads it — sender, recipient, subject, then the plain-text body decoded,
so a link is one whole line that can be copied or clicked. Django's own
console backend prints the raw MIME message, where quoted-printable encoding
cuts long links across lines with a trailing "=".
"""

from django.core.mail.backends.console import EmailBackend

RULE = "-" * 79


class ConsoleEmailBackend(EmailBackend):
    """Django's console backend (its locking, its stream), writing each message as `readable` does."""

    def write_message(self, message) -> None:
        self.stream.write(readable(message) + "\n")


def readable(message) -> str:
    """An EmailMessage as text: headers a person reads, the plain body, and what else it carries."""
    lines = [
        RULE,
        f"From: {message.from_email}",
        f"To: {', '.join(message.to)}",
    ]
    if message.cc:
        lines.append(f"Cc: {', '.join(message.cc)}")
    lines += [f"Subject: {message.subject}", ""]
    lines.append(message.body.rstrip("\n"))
    for _content, mimetype in getattr(message, "alternatives", []):
        lines.append(f"\n[also sent as {mimetype}]")
    for attachment in message.attachments:
        name = getattr(attachment, "filename", None) or "attachment"
        lines.append(f"[attachment: {name}]")
    lines.append(RULE)
    return "\n".join(lines)

"""
The tokens in the links we e-mail to signers, made with Django's signing
framework: nobody can forge one for another signature, and a confirmation link
stops working after `settings.SIGNUP_CONFIRM_MAX_AGE` seconds.

Each kind of link has its own salt, so a token of the signer's page never
confirms and a confirmation token never opens the signer's page.
"""

from django.conf import settings
from django.core import signing

CONFIRM_SALT = "letters.signature.confirm"
CORRECTION_SALT = "letters.correction.confirm"
# The signer's page (/manage/<token>/). Its tokens were first made for the
# withdrawal page, whose links (/withdraw/<token>/) keep working and lead there.
MANAGE_SALT = "letters.signature.withdraw"

BadToken = signing.BadSignature
ExpiredToken = signing.SignatureExpired  # a subclass of BadToken


def make_confirm_token(signature_id: int) -> str:
    return signing.dumps(signature_id, salt=CONFIRM_SALT)


def read_confirm_token(token: str, *, allow_expired: bool = False) -> int:
    """
    The signature id in a confirmation token. Raises `ExpiredToken` when it is
    older than SIGNUP_CONFIRM_MAX_AGE (unless `allow_expired`, used to send a
    new link) and `BadToken` when it was altered.
    """
    max_age = None if allow_expired else settings.SIGNUP_CONFIRM_MAX_AGE
    return _as_id(signing.loads(token, salt=CONFIRM_SALT, max_age=max_age))


def make_manage_token(signature_id: int) -> str:
    # The signer's page never expires: every e-mail links to it, and a signer
    # may change their mind years later.
    return signing.dumps(signature_id, salt=MANAGE_SALT)


def read_manage_token(token: str) -> int:
    return _as_id(signing.loads(token, salt=MANAGE_SALT))


def make_correction_token(correction_id: int) -> str:
    return signing.dumps(correction_id, salt=CORRECTION_SALT)


def read_correction_token(token: str) -> int:
    """The correction id in a correction's confirmation link; expires like a confirmation link."""
    return _as_id(signing.loads(token, salt=CORRECTION_SALT, max_age=settings.SIGNUP_CONFIRM_MAX_AGE))


def _as_id(value: object) -> int:
    if type(value) is not int:
        raise BadToken("The token does not name a signature.")
    return value

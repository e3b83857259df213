"""
How many messages one mailbox may receive from us: at most
settings.SIGNUP_MAIL_PER_ADDRESS an hour, whatever signatures, letters or
forms they come from. Anyone can type someone else's address into the form
(ten organizations, ten letters, ten networks); the mailbox's owner gets a
few messages, not a flood of text the attacker wrote.

The count lives in the shared cache under an HMAC of the address's mailbox
(`signatories.normalize.mailbox_key`: +tags, quotes and case folded for every domain),
never the address itself. `letters.signing.tasks` asks before every message and counts it once sent.
"""

import hashlib
import hmac
import logging
import time

from django.conf import settings
from django.core.cache import cache

from letters.outputs.cache import CACHE_ERRORS
from letters.signing.ratelimits import process_counters
from signatories.normalize import mailbox_key

logger = logging.getLogger(__name__)

WINDOW = 3600  # seconds


def mailbox_digest(address: str) -> str:
    """The mailbox of `address` as a cache key may name it: keyed, so it cannot be looked up from a list."""
    mailbox = mailbox_key(address).encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"mailbox:" + mailbox, hashlib.sha256).hexdigest()[:40]


def _key(address: str) -> str:
    return f"mail-cap:{mailbox_digest(address)}"


def mail_allowed(address: str) -> bool:
    """
    Whether `address` may get one more message this hour. Only asks: the
    message counts once the mail server accepted it (mail_counted), so that
    attempts during a mail-server outage do not use up the allowance. Two
    workers asking at once may both send: the cap is a bound on a flood, not
    an exact count.
    """
    key = _key(address)
    try:
        sent = cache.get(key, 0)
    except CACHE_ERRORS:
        logger.warning("Mail cap read in this process only: the cache is unavailable", exc_info=True)
        sent = process_counters.get(key)
    return sent < settings.SIGNUP_MAIL_PER_ADDRESS


def mail_counted(address: str) -> None:
    """Counts one message the mail server accepted for `address`, for an hour."""
    key = _key(address)
    try:
        cache.add(key, 0, timeout=WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=WINDOW)
    except CACHE_ERRORS:
        # Redis or the database cache is gone, slow or locked: the message
        # went, and a flood must still be stopped, so this process counts on
        # its own meanwhile (a looser cap, one per worker process).
        logger.warning("Mail cap counted in this process only: the cache is unavailable", exc_info=True)
        process_counters.incr(key, time.time() + WINDOW)

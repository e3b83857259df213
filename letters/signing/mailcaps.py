"""
How many messages one mailbox may receive from us: at most
settings.SIGNUP_MAIL_PER_ADDRESS an hour, whatever signatures, letters or
forms they come from. Anyone can type someone else's address into the form
(ten organizations, ten letters, ten networks); the mailbox's owner gets a
few messages, not a flood of text the attacker wrote.

The count lives in the shared cache under an HMAC of the address's mailbox
(`signatories.normalize.mailbox_key`: +tags, quotes and case folded for every domain),
never the address itself. `letters.signing.tasks` asks before every message and counts it once sent.

On SQLite with the database cache (one host, no Redis), the counts live
instead in the rate limits' own SQLite file (RATELIMIT_FILE, a table of their
own): in the database cache each message took the site's single write lock
twice (add, then incr, each with the cache's cull count), and the task worker
fell behind the signups it queued behind.
"""

import hashlib
import hmac
import logging
import random
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection

from letters.outputs.cache import CACHE_ERRORS
from letters.signing.ratelimits import LocalCounters, process_counters
from signatories.normalize import mailbox_key

logger = logging.getLogger(__name__)

WINDOW = 3600  # seconds


def mailbox_digest(address: str) -> str:
    """The mailbox of `address` as a cache key may name it: keyed, so it cannot be looked up from a list."""
    mailbox = mailbox_key(address).encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"mailbox:" + mailbox, hashlib.sha256).hexdigest()[:40]


def _key(address: str) -> str:
    return f"mail-cap:{mailbox_digest(address)}"


class MailCapCounters(LocalCounters):
    """
    Counts of messages per mailbox in the rate limits' SQLite file, in a table
    of their own: each count lasts WINDOW seconds from the first message of its
    hour, as in the cache (a count past its expiry starts again at 1).
    """

    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS mail_cap "
        "(name TEXT PRIMARY KEY, n INTEGER NOT NULL, expires REAL NOT NULL)"
    )
    UPSERT = (
        "INSERT INTO mail_cap (name, n, expires) VALUES (:name, 1, :expires) "
        "ON CONFLICT (name) DO UPDATE SET "
        "n = CASE WHEN mail_cap.expires <= :now THEN 1 ELSE mail_cap.n + 1 END, "
        "expires = CASE WHEN mail_cap.expires <= :now THEN excluded.expires ELSE mail_cap.expires END "
        "RETURNING n"
    )

    def get(self, name: str) -> int:
        row = (
            self._connection()
            .execute("SELECT n FROM mail_cap WHERE name = ? AND expires > ?", (name, time.time()))
            .fetchone()
        )
        return row[0] if row else 0

    def incr(self, name: str, expires: float) -> int:
        db = self._connection()
        now = time.time()
        (count,) = db.execute(self.UPSERT, {"name": name, "expires": expires, "now": now}).fetchone()
        if random.random() < 0.01:  # noqa: S311 - housekeeping, not security
            db.execute("DELETE FROM mail_cap WHERE expires < ?", (now,))
        return count

    def clear(self) -> None:
        self._connection().execute("DELETE FROM mail_cap")


_files: dict[str, MailCapCounters] = {}


def _counters_file() -> MailCapCounters | None:
    """The counters file when the site runs on SQLite with the database cache, else None (the cache)."""
    if settings.REDIS_URL or connection.vendor != "sqlite":
        return None
    if not isinstance(caches["default"], DatabaseCache):
        return None
    path = str(settings.RATELIMIT_FILE)
    if path not in _files:
        _files[path] = MailCapCounters(path)
    return _files[path]


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
        counters = _counters_file()
        sent = counters.get(key) if counters is not None else cache.get(key, 0)
    except CACHE_ERRORS:
        logger.warning("Mail cap read in this process only: the cache is unavailable", exc_info=True)
        sent = process_counters.get(key)
    return sent < settings.SIGNUP_MAIL_PER_ADDRESS


def mail_counted(address: str) -> None:
    """Counts one message the mail server accepted for `address`, for an hour."""
    key = _key(address)
    try:
        counters = _counters_file()
        if counters is not None:
            counters.incr(key, time.time() + WINDOW)
            return
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


def clear() -> None:
    """Forgets every count kept in a counters file (tests)."""
    counters = _counters_file()
    if counters is not None:
        counters.clear()

"""
Fixed-window counters for rate limits (signing, new links, PDF renders), shared
by every process that serves the site, without a write transaction on the
site's database.

- With REDIS_URL: in Redis (the cache's own connection: SET NX EX and INCR
  in one round trip), which every host shares.
- On SQLite (one host by nature): in a small SQLite file of their own beside
  the database (RATELIMIT_FILE), one autocommitted UPSERT per hit with
  `synchronous=OFF`. Its lock is not the database's, so counting a signer never
  queues behind, nor holds up, the signers' own writes; a lost count after a
  power cut costs nothing worth an fsync.
- On PostgreSQL without Redis: in the database cache (the `default` cache);
  PostgreSQL has no single write lock to contend for.

Should the shared counters be out of reach (Redis down or timing out, the
counters file or database cache locked), each process counts in its own
memory meanwhile (`process_counters`): limits hold per process, loosely,
and nobody is turned away for our outage.

Rates are written as django-ratelimit writes them: "30/h", "5/10m", "1000/m".
"""

import hashlib
import hmac
import logging
import os
import random
import re
import sqlite3
import threading
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection

from letters.outputs.cache import CACHE_ERRORS

logger = logging.getLogger(__name__)

# Disputes ("Is your name here without your consent?") per client and letter: a person
# rarely has more than one or two to send; a script filling the organizers' inbox stops here.
DISPUTE_RATE_LIMIT = "5/h"

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE = re.compile(r"([0-9]+)/([0-9]*)([smhd])")


class RateError(ValueError):
    pass


def parse_rate(rate: str) -> tuple[int, int]:
    """ "30/h" → (30, 3600); "5/10m" → (5, 600)."""
    match = RATE.fullmatch(rate.strip())
    if not match:
        raise RateError(f"A rate looks like 30/h or 5/10m, not {rate!r}")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * UNITS[unit]


def hit(group: str, who: str, rate: str) -> tuple[bool, int]:
    """
    Counts one hit of `who` (e.g. an IP address) for `group`. Returns whether
    the allowance is used up (this hit included) and the seconds until the
    current window ends. Should the counters be unavailable, nobody is turned
    away (a signer matters more than a count).
    """
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    # Keyed: a counter's name must not give away who posted to which letter to
    # whoever reads Redis or the counters file (2^32 IPv4 addresses are quickly tried).
    digest = hmac.new(settings.SECRET_KEY.encode(), f"rate:{group}\0{who}".encode(), hashlib.sha256)
    digest = digest.hexdigest()[:32]
    name = f"rl:{period}:{window}:{digest}"
    expires = (window + 1) * period
    try:
        count = _incr(name, expires, period)
    except CACHE_ERRORS:
        logger.warning("Rate limit counted in this process only: the counters are unavailable", exc_info=True)
        count = process_counters.incr(name, expires)
    return count > limit, max(1, int(expires - now) + 1)


def _incr(name: str, expires: float, period: int) -> int:
    if not settings.REDIS_URL and connection.vendor == "sqlite":
        return _local_file().incr(name, expires)
    if isinstance(caches["default"], RedisCache):
        return _redis_incr(name, period)
    if cache.add(name, 1, period + 1):
        return 1
    try:
        return cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.add(name, 1, period + 1)
        return 1


def _redis_incr(name: str, period: int) -> int:
    """
    One round trip to Redis: the window's counter created with its expiry if
    missing (SET NX EX, any Redis version), then INCR. (The cache API's add,
    exists, incr would be three; each costs a signup as much as a query.)
    Written under the cache's own key and read back by it alike: Django's
    Redis serializer stores integers as they are.
    """
    redis = caches["default"]
    key = redis.make_and_validate_key(name)
    pipeline = redis._cache.get_client(key, write=True).pipeline(transaction=False)
    pipeline.set(key, 0, ex=period + 1, nx=True)
    pipeline.incr(key)
    _, count = pipeline.execute()
    return count


def clear() -> None:
    """Forgets every count (tests)."""
    cache.clear()
    process_counters.clear()
    if os.path.exists(settings.RATELIMIT_FILE):
        _local_file().clear()


class ProcessCounters:
    """
    Counters in this process's memory, for while the shared ones cannot be
    reached: never a network call, so never a wait. Bounded, so that an
    outage of a day cannot grow them without end.
    """

    MAX_ENTRIES = 50_000

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, tuple[int, float]] = {}  # name → (count, expires)

    def incr(self, name: str, expires: float) -> int:
        """Counts one for `name` until `expires` (a time.time()); returns the count."""
        now = time.time()
        with self.lock:
            count, until = self.counts.get(name, (0, expires))
            if until <= now:
                count, until = 0, expires
            self.counts[name] = (count + 1, until)
            if len(self.counts) > self.MAX_ENTRIES:
                self._cull(now)
            return count + 1

    def get(self, name: str) -> int:
        """The count of `name`, 0 if none or expired."""
        with self.lock:
            count, until = self.counts.get(name, (0, 0.0))
        return count if until > time.time() else 0

    def add(self, name: str, expires: float) -> bool:
        """cache.add(): True if `name` was not counted (or its count expired), and counts it."""
        return self.incr(name, expires) == 1

    def _cull(self, now: float) -> None:
        # The expired first; if that is not enough, the oldest half (insertion order).
        self.counts = {name: entry for name, entry in self.counts.items() if entry[1] > now}
        if len(self.counts) > self.MAX_ENTRIES:
            self.counts = dict(list(self.counts.items())[len(self.counts) // 2 :])

    def clear(self) -> None:
        with self.lock:
            self.counts.clear()


process_counters = ProcessCounters()


class LocalCounters:
    """Counters in a SQLite file of their own: one statement a hit, no transaction of the site's."""

    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS counter "
        "(name TEXT PRIMARY KEY, n INTEGER NOT NULL, expires REAL NOT NULL)"
    )
    UPSERT = (
        "INSERT INTO counter (name, n, expires) VALUES (?, 1, ?) "
        "ON CONFLICT (name) DO UPDATE SET n = n + 1 RETURNING n"
    )

    def __init__(self, path: str) -> None:
        self.path = str(path)
        self.local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        # One connection per process and thread; a forked worker opens its own.
        pid = os.getpid()
        if getattr(self.local, "pid", None) != pid:
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.execute(self.SCHEMA)
            self.local.db, self.local.pid = db, pid
        return self.local.db

    def incr(self, name: str, expires: float) -> int:
        db = self._connection()
        (count,) = db.execute(self.UPSERT, (name, expires)).fetchone()
        if random.random() < 0.01:  # noqa: S311 - housekeeping, not security
            db.execute("DELETE FROM counter WHERE expires < ?", (time.time(),))
        return count

    def clear(self) -> None:
        self._connection().execute("DELETE FROM counter")


_counters: dict[str, LocalCounters] = {}


def _local_file() -> LocalCounters:
    path = str(settings.RATELIMIT_FILE)
    if path not in _counters:
        _counters[path] = LocalCounters(path)
    return _counters[path]

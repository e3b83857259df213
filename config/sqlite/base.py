"""
Django's SQLite backend, with writers that queue instead of polling.

SQLite lets one transaction write at a time. A connection that finds the lock
taken retries after sleeping 1, 2, 5 … up to 100 ms, so under load most of the
wait is sleep after the lock was already free, and the slowest requests wait
seconds (bench/signup_load.py). Here every write transaction of every process
first takes an exclusive flock() on a file beside the database: the kernel
wakes the next writer the moment the previous one commits. The busy timeout
stays as the safety net for writers outside Django (backups, sqlite3 shell),
and bounds the wait in this queue too: a writer that holds the lock longer
(a process stopped or stuck inside its transaction) makes the next give up
with "database is locked", which the views answer with 503, rather than wait
for ever (each request until gunicorn killed it).
"""

import fcntl
import os
import threading

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError


class DatabaseWrapper(base.DatabaseWrapper):
    _write_lock_fd: int | None = None

    def _lock_path(self) -> str | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name:
            return None
        return name + ".writelock"

    def _start_transaction_under_autocommit(self) -> None:
        path = self._lock_path()
        if path is not None and self._write_lock_fd is None:
            # As long as SQLite's own busy timeout (SQLITE_BUSY_TIMEOUT) would wait.
            timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
            self._write_lock_fd = take_write_lock(path, timeout)
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_write_lock()
            raise

    def _release_write_lock(self) -> None:
        if self._write_lock_fd is not None:
            fd, self._write_lock_fd = self._write_lock_fd, None
            os.close(fd)  # closing the descriptor releases the flock

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_write_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_write_lock()


def take_write_lock(path: str, timeout: float) -> int:
    """
    An open descriptor of `path` holding its exclusive flock(), taken at once
    if free, else waited for in the kernel's queue for at most `timeout`
    seconds (OperationalError "database is locked" after that).
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        pass
    except BaseException:
        os.close(fd)
        raise
    if LockWaiter(fd).taken_within(timeout):
        return fd
    raise OperationalError("database is locked (waited for the writers' queue)")


class LockWaiter(threading.Thread):
    """
    Waits for the flock in a thread of its own, since flock() has no timeout.
    Given up on, it keeps its place in the queue and lets the lock go the
    moment it gets it (closing the descriptor, which is then its own).
    """

    def __init__(self, fd: int) -> None:
        super().__init__(name="sqlite-writer-queue", daemon=True)
        self.fd = fd
        self.taken = threading.Event()
        self.given_up = False
        self.error: OSError | None = None
        self.guard = threading.Lock()
        self.start()

    def run(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError as error:
            self.error = error
        with self.guard:
            if self.given_up:
                os.close(self.fd)
                return
            self.taken.set()

    def taken_within(self, timeout: float) -> bool:
        self.taken.wait(timeout)
        with self.guard:
            if not self.taken.is_set():
                self.given_up = True
                return False
        if self.error is not None:
            os.close(self.fd)
            raise self.error
        return True

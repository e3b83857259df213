"""
Django's SQLite backend, with writers that queue instead of polling.

SQLite lets one transaction write at a time. A connection that finds the lock
taken retries after sleeping 1, 2, 5 … up to 100 ms, so under load most of the
wait is sleep after the lock was already free, and the slowest requests wait
seconds (bench/signup_load.py). Here every write transaction of every process
first takes an exclusive flock() on a file beside the database: the kernel
wakes the next writer the moment the previous one commits. The busy timeout
stays as the safety net for writers outside Django (backups, sqlite3 shell).
"""

import fcntl
import os

from django.db.backends.sqlite3 import base


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
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._write_lock_fd = fd
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

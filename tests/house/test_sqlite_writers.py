import fcntl
import os
import threading
import time

import pytest
from django.conf import settings
from django.db import OperationalError, connection

from config.sqlite.base import DatabaseWrapper

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's writer queue"),
]


def file_database(tmp_path, timeout: float | None = None) -> DatabaseWrapper:
    options = settings.SQLITE_OPTIONS if timeout is None else {**settings.SQLITE_OPTIONS, "timeout": timeout}
    params = dict(connection.settings_dict, NAME=str(tmp_path / "db.sqlite3"), OPTIONS=options)
    database = DatabaseWrapper(params, alias="writers")
    database.inc_thread_sharing()  # written from a test's thread too
    return database


def lock_is_free(path: str) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_a_write_transaction_holds_the_writer_queue_until_commit(tmp_path):
    db = file_database(tmp_path)
    lock = str(tmp_path / "db.sqlite3.writelock")
    db.ensure_connection()
    db.connection.execute("CREATE TABLE t (x int)")
    with db_atomic(db):
        db.connection.execute("INSERT INTO t VALUES (1)")
        assert not lock_is_free(lock)  # other writers wait in the kernel queue
    assert lock_is_free(lock)
    db.close()


def test_a_rolled_back_transaction_releases_the_queue(tmp_path):
    db = file_database(tmp_path)
    lock = str(tmp_path / "db.sqlite3.writelock")
    with pytest.raises(RuntimeError), db_atomic(db):
        assert not lock_is_free(lock)
        raise RuntimeError
    assert lock_is_free(lock)
    db.close()


def held(path: str) -> int:
    """The writers' queue taken by someone else: a process stopped or stuck inside its transaction."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def in_a_thread(work) -> dict:
    """Runs `work` in a thread; what it returned or raised, and when, or nothing yet."""
    outcome = {}

    def run():
        started = time.monotonic()
        try:
            outcome["value"] = work()
        except Exception as error:
            outcome["error"] = error
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    outcome["thread"] = thread
    return outcome


def test_a_writer_behind_one_that_never_lets_go_gives_up_as_sqlite_would(tmp_path):
    # Before: flock() waited for ever; each signup behind a stopped task worker hung until
    # gunicorn killed its worker (tests/reliability/test_full_disk.py failed that way).
    db = file_database(tmp_path, timeout=0.5)
    lock = str(tmp_path / "db.sqlite3.writelock")
    holder = held(lock)

    def write():
        with db_atomic(db):
            pass

    outcome = in_a_thread(write)
    outcome["thread"].join(5)
    assert not outcome["thread"].is_alive(), "still waiting for the writers' queue"
    assert isinstance(outcome["error"], OperationalError)
    assert "database is locked" in str(outcome["error"])  # what the views answer with 503
    assert 0.4 < outcome["seconds"] < 3

    os.close(holder)  # the stuck writer lets go: the given-up wait takes its turn and lets go too
    for waiter in [thread for thread in threading.enumerate() if thread.name == "sqlite-writer-queue"]:
        waiter.join(5)
        assert not waiter.is_alive()
    assert lock_is_free(lock)
    write()  # the queue works again
    db.close()


def test_a_waiting_writer_goes_the_moment_the_queue_is_free(tmp_path):
    db = file_database(tmp_path, timeout=10)
    lock = str(tmp_path / "db.sqlite3.writelock")
    holder = held(lock)

    def write():
        with db_atomic(db):
            return time.monotonic()

    outcome = in_a_thread(write)
    time.sleep(0.3)
    assert "seconds" not in outcome  # queued behind the holder
    freed = time.monotonic()
    os.close(holder)
    outcome["thread"].join(5)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["value"] - freed < 0.2  # woken by the kernel, not after a poll
    db.close()


class db_atomic:
    """BEGIN … COMMIT/ROLLBACK on a wrapper that is not in settings.DATABASES."""

    def __init__(self, db: DatabaseWrapper) -> None:
        self.db = db

    def __enter__(self):
        self.db.ensure_connection()
        self.db._start_transaction_under_autocommit()

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.db._commit()
        else:
            self.db._rollback()

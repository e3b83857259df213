import fcntl
import os

import pytest
from django.conf import settings
from django.db import connection

from config.sqlite.base import DatabaseWrapper

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's writer queue"),
]


def file_database(tmp_path) -> DatabaseWrapper:
    options = settings.SQLITE_OPTIONS
    params = dict(connection.settings_dict, NAME=str(tmp_path / "db.sqlite3"), OPTIONS=options)
    return DatabaseWrapper(params, alias="writers")


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

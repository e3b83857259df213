"""
The task worker survives the database failing under it (PostgreSQL stopped,
a lost connection, SQLite's "disk I/O error" or "database or disk is full"):
it closes its connections, waits longer each time, and goes on; no task is
lost, recorded as failed for the outage, or sent twice.
"""

import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, OperationalError, connections
from django.db.utils import InterfaceError
from django_tasks_db.backend import DatabaseBackend

from letters.signing import tasks, worker
from letters.signing.worker import Backoff, BatchWorker, describe
from tests.factories import pending_signups

SEND = "django.core.mail.backends.locmem.EmailBackend.send_messages"


@pytest.fixture(autouse=True)
def short_backoff(settings):
    settings.TASK_WORKER_BACKOFF_FIRST_SECONDS = 0.01
    settings.TASK_WORKER_BACKOFF_MAX_SECONDS = 0.04


def run_worker() -> None:
    """`manage.py task_worker --batch`: it exits once no task is ready."""
    call_command("task_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def failing(times: int, error: Exception, original):
    """A stand-in for `original` that raises `error` the first `times` calls, then calls it."""
    calls = {"count": 0}

    def call(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] <= times:
            raise error
        return original(*args, **kwargs)

    return call


DISK_FULL = OperationalError("database or disk is full")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "error",
    [
        DISK_FULL,
        OperationalError("disk I/O error"),
        OperationalError('connection to server on socket "/run/postgresql/.s.PGSQL.5432" failed'),
        InterfaceError("connection already closed"),
        OSError(28, "No space left on device"),
    ],
)
def test_the_worker_waits_out_a_database_error_when_claiming_and_then_sends_the_mail(queue, error, caplog):
    addresses = pending_signups(3)
    claim = failing(4, error, BatchWorker.claim_batch)
    database = connections["default"]

    with (
        mock.patch.object(BatchWorker, "claim_batch", autospec=True, side_effect=claim),
        mock.patch.object(worker.Backoff, "next", autospec=True, side_effect=Backoff.next) as waits,
        mock.patch.object(database, "close", wraps=database.close) as closed,
    ):
        run_worker()  # before: the error ended the worker at the first failure

    assert sorted(message.to[0] for message in mail.outbox) == sorted(addresses)  # each once
    assert queue.filter(status="SUCCESSFUL").count() == 3
    assert waits.call_count == 4
    assert closed.called  # the connections were closed before trying again
    assert "The database failed" in caplog.text
    assert "tries again in 0.01 s" in caplog.text and "tries again in 0.04 s" in caplog.text


def test_the_wait_doubles_up_to_its_ceiling_and_starts_again_once_the_database_answers(settings):
    settings.TASK_WORKER_BACKOFF_FIRST_SECONDS = 1
    settings.TASK_WORKER_BACKOFF_MAX_SECONDS = 30
    backoff = Backoff()
    assert [backoff.next() for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    backoff.reset()
    assert backoff.next() == 1


@pytest.mark.django_db(transaction=True)
def test_results_that_could_not_be_recorded_are_recorded_once_the_database_is_back_and_nothing_goes_twice(
    queue,
):
    addresses = pending_signups(4)
    record = failing(5, DISK_FULL, worker.record_results)

    with mock.patch.object(worker, "record_results", side_effect=record):
        run_worker()

    # Sent once each: the worker recorded the batch it had sent before claiming again.
    assert sorted(message.to[0] for message in mail.outbox) == sorted(addresses)
    assert queue.filter(status="SUCCESSFUL").count() == 4
    assert not queue.exclude(status="SUCCESSFUL").exists()


@pytest.mark.django_db(transaction=True)
# Six times: reads still answer on a full disk, which must never count as the task's own error.
@pytest.mark.parametrize("times", [1, 6])
def test_a_task_that_meets_the_database_failing_goes_back_to_the_queue_not_to_failed(queue, times):
    addresses = pending_signups(3)
    allowed = failing(times, DISK_FULL, tasks.mail_allowed)

    with mock.patch.object(tasks, "mail_allowed", side_effect=allowed):
        run_worker()

    assert not queue.filter(status="FAILED").exists()  # before: FAILED, its e-mail never sent
    assert sorted(message.to[0] for message in mail.outbox) == sorted(addresses)
    assert queue.filter(status="SUCCESSFUL").count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_retry_that_cannot_be_queued_for_a_database_error_is_tried_again_not_failed(queue):
    [address] = pending_signups(1)
    enqueue = failing(1, DISK_FULL, DatabaseBackend.enqueue)
    with (
        mock.patch(SEND, side_effect=[smtplib.SMTPServerDisconnected("gone"), 1]) as send,
        mock.patch.object(DatabaseBackend, "enqueue", autospec=True, side_effect=enqueue),
    ):
        run_worker()

    # Before: FAILED ("Could not queue the next try"), never sent.
    assert not queue.filter(status="FAILED").exists()
    # The task went back to the queue and, tried again, sent its message.
    assert [call.args[0][0].to for call in send.call_args_list] == [[address], [address]]
    assert queue.get().status == "SUCCESSFUL"


@pytest.mark.django_db(transaction=True)
def test_a_worker_started_while_the_database_is_away_does_not_exit(queue):
    addresses = pending_signups(2)
    reclaim = failing(1, DISK_FULL, worker.reclaim_stalled)
    with mock.patch("letters.management.commands.task_worker.reclaim_stalled", side_effect=reclaim):
        run_worker()
    assert sorted(message.to[0] for message in mail.outbox) == sorted(addresses)


def test_the_log_never_quotes_a_row_only_the_kind_of_a_database_error():
    leak = IntegrityError(
        "duplicate key value violates unique constraint\nDETAIL: Key (email)=(jane@example.org)"
    )
    assert describe(leak) == "IntegrityError"
    assert describe(DISK_FULL) == "OperationalError: database or disk is full"


@pytest.mark.django_db(transaction=True)
def test_a_task_that_meets_the_database_and_a_record_that_fails_after_it_lose_nothing(queue):
    addresses = pending_signups(4)
    allowed = failing(1, DISK_FULL, tasks.mail_allowed)
    record = failing(2, DISK_FULL, worker.record_results)

    with (
        mock.patch.object(tasks, "mail_allowed", side_effect=allowed),
        mock.patch.object(worker, "record_results", side_effect=record),
    ):
        run_worker()

    assert sorted(message.to[0] for message in mail.outbox) == sorted(addresses)  # each once
    assert queue.filter(status="SUCCESSFUL").count() == 4


REFUSED = OperationalError("no such column: letters_signature.removed_field")


def refusing(address: str, error: Exception, original):
    """mail_allowed, raising `error` for `address` alone: at most 10 times, then a RuntimeError."""
    calls = []

    def call(to):
        if to != address:
            return original(to)
        calls.append(to)
        if len(calls) > 10:
            raise RuntimeError("queued again and again")  # before: for ever, every e-mail behind it
        raise error

    return call, calls


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_own_query_fails_while_the_database_answers_fails_after_three_tries_alone(queue, caplog):
    poisoned, *others = pending_signups(3)
    allowed, calls = refusing(poisoned, REFUSED, tasks.mail_allowed)
    with mock.patch.object(tasks, "mail_allowed", side_effect=allowed):
        run_worker()

    assert len(calls) == worker.OWN_ERROR_TRIES == 3
    failed = queue.get(status="FAILED")
    assert failed.exception_class_path == "django.db.utils.OperationalError"
    assert sorted(message.to[0] for message in mail.outbox) == sorted(others)  # held up by nothing
    assert queue.filter(status="SUCCESSFUL").count() == 2
    assert "recorded as failed" in caplog.text
    assert poisoned not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_any_database_error_is_waited_out_while_the_database_does_not_answer(queue):
    [address] = pending_signups(1)
    answers = iter([False] * 5 + [True] * 10)
    with (
        mock.patch.object(tasks, "mail_allowed", side_effect=failing(5, REFUSED, tasks.mail_allowed)),
        mock.patch.object(worker, "database_answers", side_effect=lambda: next(answers)),
    ):
        run_worker()
    assert not queue.filter(status="FAILED").exists()
    assert [message.to[0] for message in mail.outbox] == [address]

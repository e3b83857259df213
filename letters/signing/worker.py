"""
Tasks left RUNNING by a task worker that died (SIGKILL, out of memory, the
host restarted) are taken up again: django-tasks-db has no heartbeat, and a
claimed row stays RUNNING for ever, its e-mail never sent. `reclaim_stalled`
puts every row RUNNING for longer than TASK_RUNNING_TIMEOUT_SECONDS back to
READY; `manage.py task_worker` calls it when it starts and every little while
after.

A task of ours takes seconds (a message: EMAIL_TIMEOUT at most per try; a
long PDF: under a minute), so a row RUNNING for ten minutes has lost its
worker. A message goes twice only if the worker died between the mail
server's acceptance and the record of it; a confirmation already used is not
sent again (letters/signing/tasks.py checks the status).

The worker never exits for a database or disk error (PostgreSQL restarting,
a lost connection, SQLite's "disk I/O error" or "database or disk is full"):
it closes its connections, waits TASK_WORKER_BACKOFF_FIRST_SECONDS, twice as
long each time the database fails again up to TASK_WORKER_BACKOFF_MAX_SECONDS,
and goes on. Results it could not record are kept in memory and recorded
first once the database answers, so what was sent is not sent again; a task
that met the failing database itself goes back to the queue, not to FAILED.
Unless the database answers all along and only that task's queries fail
(a column a migration removed, say): after OWN_ERROR_TRIES such tries in a
row it is recorded as FAILED, rather than holding every task behind it.
"""

import contextlib
import datetime as dt
import logging
import random
import threading
import time
import traceback

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import DatabaseError, close_old_connections, connection, connections
from django.db.utils import InterfaceError, OperationalError
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.compat import TaskContext, normalize_json, task_finished, task_started
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from letters.signing.tasks import shared_mail_connection

logger = logging.getLogger(__name__)


def reclaim_stalled() -> int:
    """Every task RUNNING since before the timeout back to READY; returns how many (never who for)."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.TASK_RUNNING_TIMEOUT_SECONDS)
    stalled = DBTaskResult.objects.running().filter(started_at__lt=cutoff)
    count = stalled.update(status=TaskResultStatus.READY)
    if count:
        logger.warning(
            "%s task(s) were running for more than %s s, their worker gone: queued again",
            count,
            settings.TASK_RUNNING_TIMEOUT_SECONDS,
        )
    return count


def reclaim_interval() -> float:
    """How often a running worker looks for stalled tasks: half the timeout, between 1 s and a minute."""
    return max(1.0, min(60.0, settings.TASK_RUNNING_TIMEOUT_SECONDS / 2))


# What the worker waits out rather than exits for: the database out of reach or
# failing (DatabaseError; InterfaceError, a closed connection, is not one of
# them), the disk under it failing or full (OSError from a file beside the database).
STORAGE_ERRORS = (DatabaseError, InterfaceError, OSError)

# What a task may meet that says the database is away, not that the task is wrong:
# the task goes back to the queue rather than to FAILED.
DATABASE_AWAY = (OperationalError, InterfaceError)

# A task meeting such an error this many times in a row while the database answers
# (own_error) is recorded as FAILED: the error is its own.
OWN_ERROR_TRIES = 3
# SQLite's words for its storage failing while it still answers a read: waited out, never counted.
STORAGE_FAILING = ("locked", "busy", "disk", "full", "i/o", "unable to open", "readonly", "read-only")


def database_answers() -> bool:
    """Whether a fresh connection to the database answers a query now."""
    for alias in connections:
        with contextlib.suppress(Exception):
            connections[alias].close()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return False
    return True


class Reclaimer(threading.Thread):
    """
    Calls reclaim_stalled every reclaim_interval() seconds, on its own
    connection, until stopped; not while `worker` holds results it could not
    record yet (its own tasks, RUNNING in the table, would be queued again).
    """

    def __init__(self, worker: "BatchWorker | None" = None) -> None:
        super().__init__(name="reclaim-stalled-tasks", daemon=True)
        self.stopping = threading.Event()
        self.worker = worker

    def run(self) -> None:
        while not self.stopping.wait(reclaim_interval()):
            if self.worker is not None and self.worker.unrecorded:
                continue
            try:
                reclaim_stalled()
            except Exception as error:
                # The database out of reach: the worker's own loop waits for it too.
                logger.warning("Could not look for stalled tasks: %s", describe(error))
            finally:
                with contextlib.suppress(Exception):
                    connection.close()

    def stop(self) -> None:
        self.stopping.set()


# Tasks short enough to be claimed several at once: one message each, EMAIL_TIMEOUT at most per try.
# Invitations to a hundred partners and the e-mails after a material change of a text come in
# such numbers too.
BATCHED_TASKS = frozenset(
    {
        "letters.signing.tasks.send_signature_email",
        "letters.signing.tasks.send_links_email",
        "letters.signing.tasks.send_text_change_email",
        "letters.signing.invitations.send_invitation",
    }
)
BATCH_SIZE = 25


def batch_seconds() -> float:
    """How long a worker keeps taking up the tasks it claimed at once; the rest go back to READY."""
    return max(0.5, min(10.0, settings.TASK_RUNNING_TIMEOUT_SECONDS / 4))


class BatchWorker(db_worker.Worker):
    """
    db_worker's Worker, which claims up to BATCH_SIZE ready e-mail tasks in
    one write transaction and records their results in one more, instead of
    two writes per task: on SQLite every write waits for the single writer,
    behind the signups. Other tasks (a long PDF) are claimed one at a time as
    before. The messages of a batch go over one connection to the mail server
    (letters.signing.tasks.shared_mail_connection).

    At least once, as before: a claimed task is RUNNING until its result is
    recorded; a worker killed mid-batch leaves its tasks RUNNING and the next
    worker takes them up after TASK_RUNNING_TIMEOUT_SECONDS. A worker stops
    taking up its claimed tasks after batch_seconds() (or when asked to stop)
    and gives the rest back as READY in the transaction that records the others.
    """

    def __init__(self, **options) -> None:
        super().__init__(**options)
        # Results of tasks run whose record failed (the database away): (done, left), recorded first.
        self.unrecorded: tuple[list[DBTaskResult], list[DBTaskResult]] | None = None
        # The error a task met when the database went away (its batch then stops), else None.
        self.database_away: BaseException | None = None
        self.backoff = Backoff()
        # Tasks that met a database error of their own, and how many times in a row (own_error).
        self.own_errors: dict[str, int] = {}
        # Whether the last claim found nothing ready (claim_batch then reads before it writes).
        self.idle = False

    def ready_tasks(self):
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        return tasks

    def claim_batch(self) -> list[DBTaskResult] | None:
        """The tasks claimed, in the queue's order ([] if none is ready); None if the database was locked."""
        tasks = self.ready_tasks()
        # An idle worker only reads until a task is ready: on SQLite a claim takes the single
        # writer's lock, which five claims a second of nothing would take from the signups.
        if self.idle and not tasks.exists():
            return []
        with exclusive_transaction(tasks.db):
            try:
                rows = list(tasks.select_for_update(skip_locked=True)[:BATCH_SIZE])
                # The first task, and the e-mail tasks that follow it if it is one.
                batch = rows[:1]
                if batch and batch[0].task_path in BATCHED_TASKS:
                    for row in rows[1:]:
                        if row.task_path not in BATCHED_TASKS:
                            break
                        batch.append(row)
                if batch:
                    now = timezone.now()
                    for row in batch:
                        row.status = TaskResultStatus.RUNNING
                        row.started_at = now
                        row.worker_ids = [*row.worker_ids, self.worker_id]
                    DBTaskResult.objects.bulk_update(batch, ["status", "started_at", "worker_ids"])
            except OperationalError as error:
                if is_locked_database_exception(error):
                    return None
                raise
        self.idle = not batch
        return batch

    def run(self) -> None:
        logger.info("Starting worker worker_id=%s queues=%s", self.worker_id, ",".join(self.queue_names))
        if self.startup_delay and self.interval:
            time.sleep(random.random())  # noqa: S311 (a thundering herd of workers, not a secret)
        while self.running:
            try:
                batch = self.step()
            except STORAGE_ERRORS as error:
                self.wait_for_database(error)
                continue
            self.backoff.reset()
            if self.batch and batch == []:
                logger.info("No more tasks to run for worker_id=%s - exiting gracefully.", self.worker_id)
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                logger.info(
                    "Run maximum tasks (%d) on worker=%s - exiting gracefully.",
                    self._run_tasks,
                    self.worker_id,
                )
                return
            if self.running and not batch:
                time.sleep(self.interval)
        if self.unrecorded:
            # Asked to stop while the database was away: one last try, or the tasks stay
            # RUNNING and are taken up again after TASK_RUNNING_TIMEOUT_SECONDS.
            with contextlib.suppress(*STORAGE_ERRORS):
                self.record_unrecorded()

    def step(self) -> list[DBTaskResult] | None:
        """Records what is left from a failed record, then claims and runs a batch; the batch."""
        close_old_connections()
        if self.unrecorded:
            self.record_unrecorded()
        batch = self.claim_batch()
        if batch:
            self.run_batch(batch)
        close_old_connections()
        return batch

    def wait_for_database(self, error: BaseException) -> None:
        """After a database or disk error: every connection closed, then a wait that grows while it lasts."""
        delay = self.backoff.next()
        logger.warning(
            "The database failed (%s): the task worker tries again in %g s%s",
            describe(error),
            delay,
            ", results of tasks run kept to record" if self.unrecorded else "",
        )
        for alias in connections:
            with contextlib.suppress(Exception):
                connections[alias].close()
        # A stop asked meanwhile (SIGTERM) exits at once, unless results wait to be recorded.
        self.running_task = bool(self.unrecorded)
        deadline = time.monotonic() + delay
        while self.running and time.monotonic() < deadline:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def record_unrecorded(self) -> None:
        done, left = self.unrecorded
        record_results(done, left, tries=1)
        self.unrecorded = None
        self.running_task = False
        logger.info("Recorded the results of %s task(s) kept while the database was away", len(done))
        self.finished(done)

    def run_batch(self, batch: list[DBTaskResult]) -> None:
        """Runs the claimed tasks in turn, then records their results and gives back those not run."""
        started = time.monotonic()
        done: list[DBTaskResult] = []
        # A first SIGTERM between two tasks of the batch only stops it (db_worker exits at once
        # when no task runs): what was sent is recorded, the rest given back.
        self.running_task = True
        try:
            with shared_mail_connection():
                for row in batch:
                    over_time = done and time.monotonic() - started > batch_seconds()
                    over_count = self.max_tasks is not None and self._run_tasks >= self.max_tasks
                    if not self.running or over_time or over_count:
                        break
                    if not self.run_one(row):
                        break  # the database is away: this task and the rest go back to the queue
                    done.append(row)
            left = batch[len(done) :]
            away, self.database_away = self.database_away, None
            try:
                record_results(done, left)
            except STORAGE_ERRORS:
                # Kept, and recorded before anything else once the database is back: what
                # was sent is not sent again (the rows stay RUNNING meanwhile).
                self.unrecorded = (done, left)
                raise
        finally:
            self.running_task = bool(self.unrecorded)
        self.finished(done)
        if away is not None:
            # The tasks went back to the queue; wait before claiming them again.
            raise away

    def finished(self, done: list[DBTaskResult]) -> None:
        for row in done:
            try:
                sender = type(row.task.get_backend())
                task_finished.send(sender=sender, task_result=row.task_result)
            except (ImportError, SuspiciousOperation):
                logger.exception("Task id=%s failed unexpectedly", row.id)

    def run_one(self, row: DBTaskResult) -> bool:
        """
        Runs one claimed task, its outcome kept on `row` (not saved: record_results
        does); False if the task met the database away (OperationalError, InterfaceError):
        it is not recorded as failed but given back to the queue.
        """
        try:
            task = row.task
            task_result = row.task_result
            task_started.send(sender=type(task.get_backend()), task_result=task_result)
            if task.takes_context:
                value = task.call(
                    TaskContext(task_result=task_result), *task_result.args, **task_result.kwargs
                )
            else:
                value = task.call(*task_result.args, **task_result.kwargs)
            row.return_value = normalize_json(value)
            row.status = TaskResultStatus.SUCCESSFUL
            row.exception_class_path = ""
            row.traceback = ""
        except DATABASE_AWAY as error:
            if not self.own_error(row, error):
                logger.warning(
                    "Task id=%s met the database failing (%s): queued again", row.id, describe(error)
                )
                self.database_away = error
                return False
            logger.error(
                "Task id=%s met a database error %s times in a row while the database answered (%s):"
                " recorded as failed",
                row.id,
                OWN_ERROR_TRIES,
                describe(error),
            )
            failed(row, error)
        except BaseException as error:
            failed(row, error)
        row.finished_at = timezone.now()
        self._run_tasks += 1
        return True

    def own_error(self, row: DBTaskResult, error: BaseException) -> bool:
        """
        Whether a database error is the task's own rather than the database
        away: the database answers a fresh connection, the error is not
        SQLite's storage failing, and the task met it OWN_ERROR_TRIES times in
        a row. One such task would otherwise go back to the head of the queue
        for ever, and every message behind it with it.
        """
        message = str(error).lower()
        if any(word in message for word in STORAGE_FAILING) or not database_answers():
            self.own_errors.pop(str(row.pk), None)
            return False
        tries = self.own_errors[str(row.pk)] = self.own_errors.get(str(row.pk), 0) + 1
        if tries < OWN_ERROR_TRIES:
            return False
        del self.own_errors[str(row.pk)]
        return True


def failed(row: DBTaskResult, error: BaseException) -> None:
    """The task's outcome kept on `row`: FAILED, with the error's kind and traceback."""
    row.status = TaskResultStatus.FAILED
    row.exception_class_path = f"{type(error).__module__}.{type(error).__qualname__}"
    row.traceback = "".join(traceback.format_exception(error))
    row.return_value = None


RESULT_FIELDS = ["status", "return_value", "finished_at", "exception_class_path", "traceback"]


def record_results(done: list[DBTaskResult], left: list[DBTaskResult], *, tries: int = 3) -> None:
    """In one write transaction: the results of the tasks `done`, and the tasks `left` back to READY."""
    for attempt in range(1, tries + 1):
        try:
            with exclusive_transaction(DBTaskResult.objects.db):
                if done:
                    DBTaskResult.objects.bulk_update(done, RESULT_FIELDS)
                if left:
                    DBTaskResult.objects.filter(pk__in=[row.pk for row in left]).update(
                        status=TaskResultStatus.READY
                    )
            return
        except Exception:
            if attempt == tries:
                raise
            time.sleep(0.1)


def describe(error: BaseException) -> str:
    """
    An error for the log: its kind, and the message of the kinds that never
    quote stored values (a connection refused, "database or disk is full");
    never an IntegrityError's or DataError's, which can quote a row.
    """
    kind = type(error).__name__
    if isinstance(error, (*DATABASE_AWAY, OSError)):
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"{kind}: {message[:200]}" if message else kind
    return kind


class Backoff:
    """TASK_WORKER_BACKOFF_FIRST_SECONDS, twice as long each time, up to TASK_WORKER_BACKOFF_MAX_SECONDS."""

    def __init__(self) -> None:
        self.delay: float | None = None

    def next(self) -> float:
        first = settings.TASK_WORKER_BACKOFF_FIRST_SECONDS
        ceiling = max(first, settings.TASK_WORKER_BACKOFF_MAX_SECONDS)
        self.delay = first if self.delay is None else min(self.delay * 2, ceiling)
        return self.delay

    def reset(self) -> None:
        self.delay = None

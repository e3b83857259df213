"""
`manage.py task_worker`: django-tasks-db's `db_worker` (same options), which
first queues again the tasks a dead worker left RUNNING, and keeps doing so
while it runs (letters/signing/worker.py, TASK_RUNNING_TIMEOUT_SECONDS), and
claims e-mail tasks several at a time (BatchWorker).

A database or disk error never ends it: it waits, longer each time, and goes
on (TASK_WORKER_BACKOFF_FIRST_SECONDS, TASK_WORKER_BACKOFF_MAX_SECONDS).
"""

import logging
import os

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from letters.signing.worker import STORAGE_ERRORS, BatchWorker, Reclaimer, describe, reclaim_stalled

logger = logging.getLogger("letters.signing.worker")


class Command(db_worker.Command):
    help = (
        "Run the task worker (sends e-mail, renders long PDFs): db_worker, taking up again "
        "the tasks of workers that died (TASK_RUNNING_TIMEOUT_SECONDS)."
    )

    def handle(self, *args, **options) -> None:
        try:
            reclaim_stalled()
        except STORAGE_ERRORS as error:
            # The database is away: the worker's loop waits for it, and the reclaimer looks again.
            logger.warning("Could not look for stalled tasks at start: %s", describe(error))
        self.run_worker(**options)

    def run_worker(self, *, verbosity, queue_name, exclude_queues, batch, reload, **options) -> None:
        """db_worker's handle, with BatchWorker for its Worker and, unless --batch, a Reclaimer beside it."""
        self.configure_logging(verbosity)
        if reload and batch:
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = BatchWorker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=batch,
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded_queue_names,
        )
        reclaimer = None if batch else Reclaimer(worker)
        if reclaimer is not None:
            reclaimer.start()
        try:
            if reload:
                if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                    worker.configure_signals()
                run_with_reloader(worker.run)
            else:
                worker.configure_signals()
                worker.run()
        finally:
            if reclaimer is not None:
                reclaimer.stop()

"""
`manage.py task_worker`: django-tasks-db's `db_worker` (same options), which
first queues again the tasks a dead worker left RUNNING, and keeps doing so
while it runs (letters/signing/worker.py, TASK_RUNNING_TIMEOUT_SECONDS), and
claims e-mail tasks several at a time (BatchWorker).
"""

import os

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from letters.signing.worker import BatchWorker, Reclaimer, reclaim_stalled


class Command(db_worker.Command):
    help = (
        "Run the task worker (sends e-mail, renders long PDFs): db_worker, taking up again "
        "the tasks of workers that died (TASK_RUNNING_TIMEOUT_SECONDS)."
    )

    def handle(self, *args, **options) -> None:
        reclaim_stalled()
        if options.get("batch"):
            self.run_worker(**options)
            return
        reclaimer = Reclaimer()
        reclaimer.start()
        try:
            self.run_worker(**options)
        finally:
            reclaimer.stop()

    def run_worker(self, *, verbosity, queue_name, exclude_queues, batch, reload, **options) -> None:
        """db_worker's handle, with BatchWorker for its Worker."""
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
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()

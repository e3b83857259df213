"""
`manage.py task_worker`: django-tasks-db's `db_worker` (same options), which
first queues again the tasks a dead worker left RUNNING, and keeps doing so
while it runs (letters/signing/worker.py, TASK_RUNNING_TIMEOUT_SECONDS).
"""

from django_tasks_db.management.commands import db_worker

from letters.signing.worker import Reclaimer, reclaim_stalled


class Command(db_worker.Command):
    help = (
        "Run the task worker (sends e-mail, renders long PDFs): db_worker, taking up again "
        "the tasks of workers that died (TASK_RUNNING_TIMEOUT_SECONDS)."
    )

    def handle(self, *args, **options) -> None:
        reclaim_stalled()
        if options.get("batch"):
            super().handle(*args, **options)
            return
        reclaimer = Reclaimer()
        reclaimer.start()
        try:
            super().handle(*args, **options)
        finally:
            reclaimer.stop()

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
"""

import datetime as dt
import logging
import threading

from django.conf import settings
from django.db import connection
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

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


class Reclaimer(threading.Thread):
    """Calls reclaim_stalled every reclaim_interval() seconds, on its own connection, until stopped."""

    def __init__(self) -> None:
        super().__init__(name="reclaim-stalled-tasks", daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(reclaim_interval()):
            try:
                reclaim_stalled()
            except Exception:
                # The database out of reach: the worker's own loop meets it too, and exits.
                logger.warning("Could not look for stalled tasks", exc_info=True)
            finally:
                connection.close()

    def stop(self) -> None:
        self.stopping.set()

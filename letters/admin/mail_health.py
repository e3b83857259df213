"""
How the e-mails to signers are doing, for the dashboard: how many wait to be
sent, how many wait to be tried again after the mail server failed, how long
the oldest has waited, and how many were given up in the last day. One query
of the task queue (django-tasks-db), whatever its length; never an address.

Mail is "stuck" when a message has been due for longer than
MAIL_STUCK_MINUTES: no worker is sending (stopped, or dead with its task
RUNNING: see letters/signing/worker.py), or it cannot keep up.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, F, Min, Q, When
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.timesince import timesince
from django_tasks_db.models import DBTaskResult, get_date_max

# The tasks that send e-mail to signers (letters/signing/tasks.py).
MAIL_TASKS = (
    "letters.signing.tasks.send_signature_email",
    "letters.signing.tasks.send_links_email",
)

MAIL_STUCK_MINUTES = 10


@dataclass
class MailHealth:
    queued: int  # due now, waiting for a worker
    retrying: int  # the mail server failed; tried again later
    sending: int  # a worker has it
    failed_today: int  # given up in the last 24 hours
    oldest_due_at: dt.datetime | None

    @property
    def oldest_wait(self) -> str:
        """How long the oldest due message has waited, in words ("12 minutes"); empty when none waits."""
        return timesince(self.oldest_due_at) if self.oldest_due_at else ""

    @property
    def stuck(self) -> bool:
        if self.oldest_due_at is None:
            return False
        return timezone.now() - self.oldest_due_at > dt.timedelta(minutes=MAIL_STUCK_MINUTES)

    @property
    def stuck_minutes(self) -> int:
        return MAIL_STUCK_MINUTES


def mail_health() -> MailHealth:
    now = timezone.now()
    ready = Q(status=TaskResultStatus.READY)
    due = ready & (Q(run_after=get_date_max()) | Q(run_after__lte=now))
    # Due since it was queued, or since the time it was to be tried again.
    due_since = Case(When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after"))
    row = (
        DBTaskResult.objects.filter(task_path__in=MAIL_TASKS)
        .filter(
            ~Q(status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED])
            | Q(status=TaskResultStatus.FAILED, finished_at__gte=now - dt.timedelta(days=1))
        )
        .aggregate(
            queued=Count("pk", filter=due),
            retrying=Count("pk", filter=ready & ~Q(run_after=get_date_max()) & Q(run_after__gt=now)),
            sending=Count("pk", filter=Q(status=TaskResultStatus.RUNNING)),
            failed_today=Count("pk", filter=Q(status=TaskResultStatus.FAILED)),
            oldest_due_at=Min(due_since, filter=due),
        )
    )
    return MailHealth(**row)

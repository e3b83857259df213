"""
How the e-mails to signers are doing, for the dashboard: how many wait to be
sent, how many wait to be tried again after the mail server failed, how long
the oldest has waited, and how many were given up in the last day. One query
of the task queue (django-tasks-db), whatever its length; never an address.

Mail is "stuck" when a message has been due for longer than
MAIL_STUCK_MINUTES: no worker is sending (stopped, or dead with its task
RUNNING: see letters/signing/worker.py), or it cannot keep up. Two more
warnings: a message "being sent" for longer than a running worker would let
it (its worker died and no worker is running to take it up again), and a
mail server that has not taken messages for MAIL_STUCK_MINUTES or more (the
tries so far of the most-tried message waiting to be tried again).
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Max, Min, Q, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.timesince import timesince
from django_tasks_db.models import DBTaskResult, get_date_max

from letters.signing.tasks import retry_delay
from letters.signing.worker import reclaim_interval

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
    oldest_sending_since: dt.datetime | None = None  # the earliest start of a task RUNNING
    most_tries: int | None = None  # failed tries so far of the most-tried message waiting to be tried again

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

    @property
    def sending_stuck(self) -> bool:
        """A message "being sent" longer than a running worker allows: its worker died, none took it up."""
        if self.oldest_sending_since is None:
            return False
        allowed = settings.TASK_RUNNING_TIMEOUT_SECONDS + 2 * reclaim_interval() + 60
        return timezone.now() - self.oldest_sending_since > dt.timedelta(seconds=allowed)

    @property
    def sending_wait(self) -> str:
        return timesince(self.oldest_sending_since) if self.oldest_sending_since else ""

    @property
    def server_failing_seconds(self) -> float:
        """At least how long the mail server has not taken messages: the waits between the tries so far."""
        if not self.most_tries:
            return 0.0
        return float(sum(retry_delay(attempt) or 0 for attempt in range(self.most_tries - 1)))

    @property
    def server_failing(self) -> bool:
        return self.server_failing_seconds >= MAIL_STUCK_MINUTES * 60

    @property
    def server_failing_for(self) -> str:
        """How long, in words ("31 minutes")."""
        return timesince(timezone.now() - dt.timedelta(seconds=self.server_failing_seconds))

    @property
    def retry_for_hours(self) -> float:
        return settings.MAIL_RETRY_FOR_HOURS


def mail_health() -> MailHealth:
    now = timezone.now()
    ready = Q(status=TaskResultStatus.READY)
    due = ready & (Q(run_after=get_date_max()) | Q(run_after__lte=now))
    # Due since it was queued, or since the time it was to be tried again.
    due_since = Case(When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after"))
    # Queued again after the mail server failed, to be tried later.
    retrying = ready & ~Q(run_after=get_date_max()) & Q(run_after__gt=now)
    row = (
        DBTaskResult.objects.filter(task_path__in=MAIL_TASKS)
        .filter(
            ~Q(status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED])
            | Q(status=TaskResultStatus.FAILED, finished_at__gte=now - dt.timedelta(days=1))
        )
        .aggregate(
            queued=Count("pk", filter=due),
            retrying=Count("pk", filter=retrying),
            sending=Count("pk", filter=Q(status=TaskResultStatus.RUNNING)),
            failed_today=Count("pk", filter=Q(status=TaskResultStatus.FAILED)),
            oldest_due_at=Min(due_since, filter=due),
            oldest_sending_since=Min("started_at", filter=Q(status=TaskResultStatus.RUNNING)),
            most_tries=Max(Cast(KT("args_kwargs__kwargs__attempt"), IntegerField()), filter=retrying),
        )
    )
    return MailHealth(**row)

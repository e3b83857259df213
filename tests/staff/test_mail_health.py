"""
The dashboard shows how the e-mails to signers are doing, and says in plain
words when they are stuck.
"""

import datetime as dt

import pytest
from django.utils import timezone

from letters.admin.mail_health import mail_health
from letters.signing import tasks

pytestmark = pytest.mark.django_db


def queued(queue, *, minutes_ago: float = 0, **fields):
    result = tasks.send_signature_email.enqueue(signature_id=1, kind="confirm")
    row = queue.filter(pk=result.id)
    row.update(enqueued_at=timezone.now() - dt.timedelta(minutes=minutes_ago), **fields)
    return row.get()


def test_waiting_retrying_sending_and_given_up_emails_are_counted(queue, django_assert_num_queries):
    queued(queue, minutes_ago=3)
    queued(queue, minutes_ago=1)
    queued(queue, run_after=timezone.now() + dt.timedelta(minutes=5))  # a retry, later
    queued(queue, status="RUNNING", started_at=timezone.now())
    queued(queue, status="FAILED", finished_at=timezone.now() - dt.timedelta(hours=2))
    queued(queue, status="FAILED", finished_at=timezone.now() - dt.timedelta(days=2))  # long ago
    queued(queue, status="SUCCESSFUL", finished_at=timezone.now())
    with django_assert_num_queries(1):
        health = mail_health()
    assert (health.queued, health.retrying, health.sending, health.failed_today) == (2, 1, 1, 1)
    assert health.oldest_wait == "3\xa0minutes"
    assert not health.stuck


def test_the_dashboard_says_when_email_is_stuck(staff_client, queue):
    html = staff_client.get("/admin/").content.decode()
    assert "E-mails to signers" in html
    assert "Waiting to be sent: <strong>0</strong>" in html
    assert "E-mail is stuck" not in html

    queued(queue, minutes_ago=25)
    queued(queue, minutes_ago=1)
    html = staff_client.get("/admin/").content.decode()
    assert "Waiting to be sent: <strong>2</strong> (the oldest for 25\xa0minutes)" in html
    assert "E-mail is stuck: the oldest message has waited 25\xa0minutes" in html
    assert "Check that the task worker is running" in html


def test_a_retry_that_came_due_waits_from_its_time_not_from_when_it_was_queued(queue):
    queued(queue, minutes_ago=40, run_after=timezone.now() - dt.timedelta(minutes=2))
    health = mail_health()
    assert health.queued == 1 and health.oldest_wait == "2\xa0minutes"
    assert not health.stuck

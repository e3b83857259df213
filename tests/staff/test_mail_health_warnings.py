"""
The dashboard warns when the worker's mail is stuck in ways the count of
waiting messages does not show: a message left "being sent" by a worker that
died with no worker running to take it up, and a mail server that has not
taken messages for a while (they wait to be tried again). Still one query.

(letters/admin/mail_health.py; its other tests are in tests/staff/test_mail_health.py.)
"""

import datetime as dt

import pytest
from django.utils import timezone

from letters.admin.mail_health import mail_health
from letters.signing import tasks

pytestmark = pytest.mark.django_db


def queued(queue, *, attempt: int = 0, **fields):
    result = tasks.send_signature_email.enqueue(signature_id=1, kind="confirm", attempt=attempt)
    queue.filter(pk=result.id).update(**fields)
    return queue.get(pk=result.id)


def later(minutes: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(minutes=minutes)


def test_a_message_left_being_sent_by_a_dead_worker_is_a_warning(
    queue, staff_client, django_assert_num_queries
):
    queued(queue, status="RUNNING", started_at=later(-5))  # a worker at work: fine
    with django_assert_num_queries(1):
        health = mail_health()
    assert health.sending == 1 and not health.sending_stuck
    assert "E-mail is stuck" not in staff_client.get("/admin/").content.decode()

    queued(queue, status="RUNNING", started_at=later(-40))  # nobody took it up after the 10-minute timeout
    assert mail_health().sending_stuck
    html = staff_client.get("/admin/").content.decode()
    assert 'E-mail is stuck: a message has been "being sent" for 40\xa0minutes' in html
    assert "no task worker is running to take it up again" in html


def test_a_mail_server_that_keeps_failing_is_a_warning_with_how_long(queue, staff_client):
    queued(queue, attempt=2, run_after=later(1))  # failed twice: 30 s between the tries
    health = mail_health()
    assert health.retrying == 1 and health.most_tries == 2
    assert not health.server_failing
    assert "The mail server has not taken" not in staff_client.get("/admin/").content.decode()

    # Failed 6 times: 30 s + 1 + 2 + 4 + 8 minutes between the tries so far, 15 minutes at least.
    queued(queue, attempt=6, run_after=later(16))
    health = mail_health()
    assert health.most_tries == 6 and health.server_failing
    html = staff_client.get("/admin/").content.decode()
    assert "The mail server has not taken our messages for at least 15\xa0minutes" in html
    assert "2 messages wait to be tried again; each is tried for 26 hours, then given up" in html


def test_retries_that_came_due_are_waiting_not_failing(queue):
    queued(queue, attempt=6, run_after=later(-1))  # due now: the worker will try it
    health = mail_health()
    assert health.most_tries is None and health.queued == 1

"""
A task worker killed mid-task leaves its row RUNNING: `manage.py task_worker`
queues it again once TASK_RUNNING_TIMEOUT_SECONDS have passed, and the
e-mail is sent once.
"""

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from letters.signing import tasks
from letters.signing.worker import reclaim_stalled
from tests.factories import make_individual, make_letter, signature_row

SIGNER = "signer@example.org"


def claimed(queue, signature, *, minutes_ago: float):
    """The confirmation task of `signature` as a worker left it when it was killed `minutes_ago`."""
    tasks.send_signature_email.enqueue(signature_id=signature.pk, kind="confirm")
    [row] = queue.all()
    started = timezone.now() - dt.timedelta(minutes=minutes_ago)
    queue.filter(pk=row.pk).update(status="RUNNING", started_at=started, worker_ids=["killed"])
    return row


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_worker_died_is_run_again_by_the_next_worker_and_its_email_sent_once(queue):
    signature = signature_row(
        make_letter(slug="civic-space"),
        make_individual("Signer", email=SIGNER),
        status="pending",
        contact_email=SIGNER,
    )
    row = claimed(queue, signature, minutes_ago=11)

    call_command("task_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    [message] = mail.outbox
    assert message.to == [SIGNER]
    assert "/confirm/" in message.body
    row.refresh_from_db()
    assert row.status == "SUCCESSFUL"
    assert row.worker_ids[0] == "killed" and len(row.worker_ids) == 2

    call_command("task_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert len(mail.outbox) == 1  # once


@pytest.mark.django_db
def test_a_task_running_for_less_than_the_timeout_is_left_to_its_worker(queue, letter):
    signature = signature_row(
        letter, make_individual("Signer", email=SIGNER), status="pending", contact_email=SIGNER
    )
    row = claimed(queue, signature, minutes_ago=9)
    assert reclaim_stalled() == 0
    row.refresh_from_db()
    assert row.status == "RUNNING"

    queue.filter(pk=row.pk).update(started_at=timezone.now() - dt.timedelta(minutes=10, seconds=1))
    assert reclaim_stalled() == 1
    row.refresh_from_db()
    assert row.status == "READY"
    assert not mail.outbox  # queued again, sent by the worker

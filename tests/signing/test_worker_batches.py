"""
`manage.py task_worker` claims the ready e-mail tasks several at a time (one
write transaction) and records their results in one more, the messages of a
batch over one connection to the mail server; every message still goes once,
and tasks claimed but not run go back to the queue at once.
"""

import signal
import smtplib

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.compat import task_started

from letters.signing.worker import BATCH_SIZE, BatchWorker, record_results
from tests.factories import make_letter, pending_signups

SMTP = "django.core.mail.backends.smtp.EmailBackend"


def worker(**options) -> BatchWorker:
    return BatchWorker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=options.get("max_tasks"),
        worker_id="test-worker",
        excluded_queue_names=[],
    )


def run_worker(*arguments: str) -> None:
    call_command("task_worker", "--batch", "--no-startup-delay", "--no-reload", *arguments, verbosity=0)


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].split()[0].upper() in {"UPDATE", "INSERT", "DELETE"}]


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_email_tasks_is_claimed_in_one_select_and_one_update(queue):
    pending_signups(BATCH_SIZE + 5)

    with CaptureQueriesContext(connection) as queries:
        batch = worker().claim_batch()

    assert len(batch) == BATCH_SIZE
    assert len(writes(queries)) == 1
    assert len([q for q in queries if q["sql"].upper().startswith("SELECT")]) == 1
    assert queue.filter(status="RUNNING", worker_ids=["test-worker"]).count() == BATCH_SIZE
    assert queue.filter(status="READY").count() == 5


@pytest.mark.django_db(transaction=True)
def test_an_idle_worker_looks_for_tasks_without_taking_the_writers_lock(queue):
    # Five claims a second, each a write transaction: on SQLite each took the single writer's
    # lock from the signups, and a worker stopped inside one held up every signup behind it.
    runner = worker()
    assert runner.claim_batch() == []
    with CaptureQueriesContext(connection) as queries:
        assert runner.claim_batch() == []
    assert writes(queries) == []
    assert not any("BEGIN" in query["sql"].upper() for query in queries)

    pending_signups(2)
    assert len(runner.claim_batch()) == 2  # a ready task is claimed at the next look


@pytest.mark.django_db(transaction=True)
def test_the_results_of_a_batch_are_recorded_in_one_update(queue):
    pending_signups(10)
    runner = worker()
    batch = runner.claim_batch()
    for row in batch[:7]:
        runner.run_one(row)

    with CaptureQueriesContext(connection) as queries:
        record_results(batch[:7], batch[7:])

    assert len(writes(queries)) == 2  # the results; the three not run, back to READY
    assert queue.filter(status="SUCCESSFUL").count() == 7
    assert queue.filter(status="READY").count() == 3
    assert len(mail.outbox) == 7


@pytest.mark.django_db(transaction=True)
def test_every_message_of_many_batches_is_sent_once(queue):
    addresses = pending_signups(2 * BATCH_SIZE + 3)

    run_worker()
    run_worker()

    assert sorted(message.to[0] for message in mail.outbox) == sorted(addresses)
    assert queue.filter(status="SUCCESSFUL").count() == len(addresses)


@pytest.mark.django_db(transaction=True)
def test_tasks_claimed_but_not_run_go_back_to_the_queue_at_once(queue):
    addresses = pending_signups(5)

    run_worker("--max-tasks", "2")

    assert len(mail.outbox) == 2
    assert queue.filter(status="SUCCESSFUL").count() == 2
    assert queue.filter(status="READY").count() == 3  # not left RUNNING for ten minutes
    run_worker()
    assert sorted(message.to[0] for message in mail.outbox) == sorted(addresses)


@pytest.mark.django_db(transaction=True)
def test_a_long_task_is_claimed_alone(queue):
    pending_signups(3)
    queue.update(task_path="letters.outputs.pdf.render_pdf_task")

    assert len(worker().claim_batch()) == 1


class FakeSmtp:
    """smtplib.SMTP as Django's SMTP backend uses it; counts connections and refuses one address for good."""

    opened = 0
    sent: list[str] = []
    refuse = "signer1@example.org"

    def __init__(self, host, port, **kwargs):
        type(self).opened += 1

    def ehlo_or_helo_if_needed(self):
        pass

    def sendmail(self, from_addr, to_addrs, msg, mail_options=(), rcpt_options=()):
        if self.refuse in to_addrs:
            raise smtplib.SMTPRecipientsRefused({self.refuse: (550, b"5.1.1 no such user")})
        type(self).sent.extend(to_addrs)
        return {}

    def quit(self):
        pass

    def close(self):
        pass


@pytest.fixture
def fake_smtp(settings, monkeypatch):
    """The SMTP backend talking to FakeSmtp, which starts with nothing sent and no connection opened."""
    settings.MAILERS = {"default": {"BACKEND": SMTP, "OPTIONS": {"host": "127.0.0.1", "port": 2525}}}
    monkeypatch.setattr(smtplib, "SMTP", FakeSmtp)
    monkeypatch.setattr(FakeSmtp, "sent", [])
    monkeypatch.setattr(FakeSmtp, "opened", 0)


@pytest.mark.django_db(transaction=True)
def test_the_messages_of_a_batch_share_one_smtp_connection_and_a_refusal_fails_only_its_task(
    queue, fake_smtp
):
    addresses = pending_signups(6)

    run_worker()

    assert sorted(FakeSmtp.sent) == sorted(a for a in addresses if a != FakeSmtp.refuse)
    # One connection for the batch, one more after the refusal dropped it.
    assert FakeSmtp.opened == 2
    assert queue.filter(status="SUCCESSFUL").count() == 5
    [failed] = queue.filter(status="FAILED")
    assert failed.exception_class_path == "letters.signing.tasks.MailNotSent"
    assert FakeSmtp.refuse not in failed.traceback


@pytest.mark.django_db(transaction=True)
def test_invitations_to_many_partners_are_claimed_in_batches_over_one_smtp_connection(queue, fake_smtp):
    # Invitations went one task, one claim and one connection to the mail server each.
    from letters.models import Invitation
    from letters.signing.invitations import send_invitation
    from tests.factories import make_organization

    letter = make_letter(slug="civic-space", status="circulating")
    addresses = [f"partner{n}@example.org" for n in range(5)]
    for n, address in enumerate(addresses):
        organization = make_organization(f"Partner {n}", contact_email=address)
        invitation = Invitation.objects.create(letter=letter, organization=organization, email=address)
        send_invitation.enqueue(invitation_id=invitation.pk)

    assert len(worker().claim_batch()) == 5
    queue.update(status="READY", worker_ids=[])
    run_worker()

    assert sorted(FakeSmtp.sent) == addresses
    assert FakeSmtp.opened == 1


@pytest.mark.django_db(transaction=True)
def test_a_worker_asked_to_stop_mid_batch_records_what_it_sent_and_gives_back_the_rest(queue):
    pending_signups(4)
    runner = worker()
    sent_before_stop = []

    def stop_after_first(sender, task_result, **kwargs):
        sent_before_stop.append(task_result.id)
        if len(sent_before_stop) == 1:
            runner.shutdown(signal.SIGTERM, None)  # as the worker's signal handler is called

    task_started.connect(stop_after_first)
    try:
        runner.run_batch(runner.claim_batch())
    finally:
        task_started.disconnect(stop_after_first)

    assert len(mail.outbox) == 1
    assert queue.filter(status="SUCCESSFUL").count() == 1
    assert queue.filter(status="READY").count() == 3  # none left RUNNING for ten minutes

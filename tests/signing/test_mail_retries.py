"""
A mail server that is down loses no e-mail: the task is queued again, later and
later, for more than a day; the hourly cap counts only messages it accepted.
"""

import datetime as dt
import logging
import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from letters.signing import mailcaps, tasks
from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db

SIGNER = "signer@example.org"
SEND = "django.core.mail.backends.locmem.EmailBackend.send_messages"


@pytest.fixture
def pending(letter):
    return signature_row(
        letter, make_individual("Signer", email=SIGNER), status="pending", contact_email=SIGNER
    )


def charged(address: str) -> int:
    return cache.get(f"mail-cap:{mailcaps.mailbox_digest(address)}", 0)


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        smtplib.SMTPConnectError(421, b"try again later"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
    ],
)
def test_a_confirmation_that_meets_a_mail_server_outage_is_sent_once_it_is_back(queue, pending, error):
    with mock.patch(SEND, side_effect=error):
        tasks.send_signature_email.call(signature_id=pending.pk, kind="confirm")

    [retry] = queue.all()
    assert retry.task_path == "letters.signing.tasks.send_signature_email"
    assert retry.args_kwargs["kwargs"] == {
        "signature_id": pending.pk,
        "kind": "confirm",
        "to": "",
        "attempt": 1,
    }
    assert (
        timezone.now() + dt.timedelta(seconds=20) < retry.run_after < timezone.now() + dt.timedelta(minutes=1)
    )
    assert not mail.outbox
    assert charged(SIGNER) == 0  # the hourly cap counts messages sent, not attempts

    tasks.send_signature_email.call(**retry.args_kwargs["kwargs"])  # what the worker does at run_after
    [message] = mail.outbox
    assert message.to == [SIGNER]
    assert "/confirm/" in message.body
    assert charged(SIGNER) == 1
    assert queue.count() == 1  # no further retry


def test_new_links_that_meet_a_mail_server_outage_are_queued_again(queue, letter):
    signature = signature_row(letter, make_organization("Org"), status="pending", contact_email=SIGNER)
    with mock.patch(SEND, side_effect=smtplib.SMTPServerDisconnected("gone")):
        tasks.send_links_email.call(letter_id=letter.pk, signature_ids=[signature.pk])
    [retry] = queue.all()
    assert retry.args_kwargs["kwargs"]["attempt"] == 1
    assert charged(SIGNER) == 0

    tasks.send_links_email.call(**retry.args_kwargs["kwargs"])
    assert [message.to for message in mail.outbox] == [[SIGNER]]


def test_retries_back_off_to_hourly_and_go_on_for_more_than_a_day():
    delays = []
    while (delay := tasks.retry_delay(len(delays))) is not None:
        delays.append(delay)
    assert delays[:4] == [30, 60, 120, 240]
    assert max(delays) == 3600
    assert 25 * 3600 <= sum(delays) <= 27 * 3600


def test_after_a_day_of_outage_the_e_mail_is_given_up_with_an_error(queue, pending, caplog):
    last = len([n for n in range(100) if tasks.retry_delay(n) is not None])
    with (
        mock.patch(SEND, side_effect=smtplib.SMTPServerDisconnected("gone")),
        caplog.at_level(logging.ERROR, logger="letters.signing.tasks"),
        pytest.raises(tasks.MailNotSent),
    ):
        tasks.send_signature_email.call(signature_id=pending.pk, kind="confirm", attempt=last)
    assert not queue.exists()
    assert f"Could not send the confirm e-mail for signature {pending.pk}" in caplog.text


def test_an_address_the_server_refuses_for_good_is_not_tried_again(queue, pending):
    refused = smtplib.SMTPRecipientsRefused({SIGNER: (550, b"5.1.1 no such user")})
    with mock.patch(SEND, side_effect=refused), pytest.raises(tasks.MailNotSent):
        tasks.send_signature_email.call(signature_id=pending.pk, kind="confirm")
    assert not queue.exists()
    assert charged(SIGNER) == 0


def test_the_first_wait_and_how_long_mail_is_tried_are_settings(settings):
    settings.MAIL_RETRY_FIRST_SECONDS = 5
    settings.MAIL_RETRY_FOR_HOURS = 1
    delays = []
    while (delay := tasks.retry_delay(len(delays))) is not None:
        delays.append(delay)
    assert delays[:3] == [5, 10, 20]
    assert 3600 <= sum(delays) <= 2 * 3600  # given up after about an hour, not 26

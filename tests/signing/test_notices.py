"""
"You are on the list": the e-mail a signer gets when staff approve their
signature in the admin, in the language they signed in (letters/signing/notices.py).
"""

import pytest
from django.core import mail

from letters.models import Signature
from letters.signing.mailcaps import mail_counted
from tests.factories import make_individual, signature_row

pytestmark = pytest.mark.django_db

QUEUE = "/admin/letters/signature/?queue=all"


def approve(staff_client, django_capture_on_commit_callbacks, *signatures):
    with django_capture_on_commit_callbacks(execute=True):
        return staff_client.post(QUEUE, {"action": "approve", "_selected_action": [s.pk for s in signatures]})


def waiting(letter, name="Kim Minji", **fields):
    return signature_row(
        letter,
        make_individual(name),
        status=Signature.Status.CONFIRMED,
        contact_email="minji@example.org",
        **fields,
    )


def test_an_approved_signer_is_told_they_are_on_the_list_in_their_language(
    staff_client, letter, django_capture_on_commit_callbacks
):
    signature = waiting(letter, language="ko")

    approve(staff_client, django_capture_on_commit_callbacks, signature)

    signature.refresh_from_db()
    assert signature.status == Signature.Status.APPROVED
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["minji@example.org"]
    assert "Protect civic space" in message.subject
    assert message.body.startswith("안녕하세요.")  # "Hello," in Korean
    assert "Kim Minji" in message.body
    assert "/manage/" in message.body and "?lang=ko" in message.body
    assert 'lang="ko"' in message.alternatives[0].content


def test_no_notice_without_an_address_nor_for_the_already_approved(
    staff_client, letter, django_capture_on_commit_callbacks
):
    no_address = signature_row(letter, make_individual("No Address"), status=Signature.Status.CONFIRMED)
    already = signature_row(letter, make_individual("Already"), contact_email="already@example.org")

    approve(staff_client, django_capture_on_commit_callbacks, no_address, already)

    assert mail.outbox == []
    no_address.refresh_from_db()
    assert no_address.status == Signature.Status.APPROVED


def test_the_notice_respects_the_mailbox_cap(
    staff_client, letter, settings, django_capture_on_commit_callbacks
):
    signature = waiting(letter)
    for _ in range(settings.SIGNUP_MAIL_PER_ADDRESS):
        mail_counted("minji@example.org")

    approve(staff_client, django_capture_on_commit_callbacks, signature)

    signature.refresh_from_db()
    assert signature.status == Signature.Status.APPROVED
    assert mail.outbox == []

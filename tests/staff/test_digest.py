"""The daily digest: organizers who opt in get one e-mail per open letter, through the task queue."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from letters.admin.digest import send_digest
from letters.models import DigestSubscription, Letter, Signature
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy(letter):
    now = timezone.now()
    signature_row(
        letter,
        make_individual("Secret Signer"),
        status=Signature.Status.PENDING,
        submitted_at=now,
        contact_email="secret@example.org",
    )
    signature_row(
        letter,
        make_organization("Some NGO"),
        status=Signature.Status.CONFIRMED,
        submitted_at=now,
        notes="Near namesake",
    )
    signature_row(
        letter, make_individual(), status=Signature.Status.CONFIRMED, submitted_at=now - dt.timedelta(days=3)
    )
    make_letter(title="A quiet letter")  # open, nothing happened: no e-mail
    make_letter(title="A closed letter", status=Letter.Status.CLOSED)
    return letter


def test_staff_opt_in_from_the_dashboard(staff_client, staff):
    staff_client.post("/admin/digest/", {"digest": "on"})
    assert DigestSubscription.objects.filter(user=staff).exists()
    assert "Stop the daily digest" in staff_client.get("/admin/").content.decode()

    staff_client.post("/admin/digest/", {"digest": "off"})
    assert not DigestSubscription.objects.filter(user=staff).exists()


def test_the_digest_is_not_changed_by_a_get(staff_client, staff):
    assert staff_client.get("/admin/digest/").status_code == 405


def test_subscribers_get_one_email_per_open_letter_with_news(busy, staff, moderator, mailoutbox):
    DigestSubscription.objects.create(user=staff)

    out = call_command("send_digest") or ""

    [message] = mailoutbox  # the moderator did not opt in; the quiet and closed letters have no news
    assert message.to == ["organizer@example.org"]
    assert message.subject.startswith("Daily digest: Protect civic space — 2 new, 2 awaiting approval")
    assert "2 awaiting approval, 1 of them with a warning" in message.body
    assert f"/admin/letters/signature/?letter={busy.pk}" in message.body
    # Counts and links only: no signer's name or address by e-mail.
    assert "Secret Signer" not in message.body and "secret@example.org" not in message.body
    assert out == ""


def test_the_next_digest_counts_from_the_last_one(busy, staff, mailoutbox):
    DigestSubscription.objects.create(user=staff)
    send_digest.enqueue(user_id=staff.pk)
    send_digest.enqueue(user_id=staff.pk)

    first, second = mailoutbox
    assert "2 new signatures" in first.body
    assert "0 new signatures" in second.body and "2 awaiting approval" in second.body


def test_a_former_staff_member_gets_nothing(busy, staff, mailoutbox):
    DigestSubscription.objects.create(user=staff)
    staff.is_staff = False
    staff.save()

    call_command("send_digest")

    assert mailoutbox == []

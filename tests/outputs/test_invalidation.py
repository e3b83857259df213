"""Bulk invalidation: choose criteria, see how many match, reject them all with a reason."""

import datetime as dt
import re

import pytest
from django.contrib.admin.models import LogEntry

from letters.models import Signature
from tests.factories import make_individual, make_letter, signature_row

pytestmark = pytest.mark.django_db

URL = "/admin/letters/signature/invalidate/"
T0 = dt.datetime(2023, 9, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
def flood(letter):
    """Five signatures from one address in ten minutes, among ordinary ones."""
    bad = [
        signature_row(
            letter,
            make_individual(),
            T0 + dt.timedelta(minutes=2 * i),
            status=status,
            ip_hash="bot",
            submitted_at=T0 + dt.timedelta(minutes=2 * i),
            contact_email=f"bot{i}@spam.example",
        )
        for i, status in enumerate(["pending", "confirmed", "approved", "approved", "confirmed"])
    ]
    good = [
        signature_row(
            letter, make_individual(), T0, ip_hash="human", submitted_at=T0, contact_email="a@ok.example"
        ),
        signature_row(
            letter, make_individual(), T0, ip_hash="", submitted_at=T0, contact_email="b@ok.example"
        ),
    ]
    other_letter = make_letter()
    elsewhere = signature_row(other_letter, make_individual(), T0, ip_hash="bot", submitted_at=T0)
    return bad, [*good, elsewhere]


def shown_count(response) -> int:
    match = re.search(r'id="match-count">(\d+) signature', response.content.decode())
    assert match, "the preview shows how many signatures match"
    return int(match.group(1))


def test_the_preview_count_is_what_gets_rejected(staff_client, letter, flood):
    bad, untouched = flood
    criteria = {"letter": letter.pk, "ip_hash": "bot", "reason": "One address, five names"}

    preview = staff_client.post(URL, {**criteria, "preview": "1"})

    assert preview.status_code == 200
    assert shown_count(preview) == 5
    assert Signature.objects.filter(status="rejected").count() == 0  # nothing yet

    done = staff_client.post(URL, {**criteria, "expected_count": 5, "confirm": "1"})

    assert done.status_code == 302
    rejected = Signature.objects.filter(status=Signature.Status.REJECTED)
    assert set(rejected.values_list("pk", flat=True)) == {s.pk for s in bad}
    assert set(rejected.values_list("rejection_reason", flat=True)) == {"One address, five names"}
    assert not Signature.objects.filter(pk__in=[s.pk for s in untouched], status="rejected").exists()
    assert LogEntry.objects.filter(change_message="Rejected: One address, five names").count() == 5


def test_nothing_changes_when_the_matches_changed_since_the_preview(staff_client, letter, flood):
    criteria = {"letter": letter.pk, "ip_hash": "bot", "reason": "Spam"}
    staff_client.post(URL, {**criteria, "preview": "1"})
    signature_row(letter, make_individual(), T0, ip_hash="bot", submitted_at=T0)  # a sixth arrives meanwhile

    response = staff_client.post(URL, {**criteria, "expected_count": 5, "confirm": "1"})

    assert response.status_code == 200
    assert "6 signatures match now, not the 5 of the preview" in response.content.decode()
    assert shown_count(response) == 6
    assert not Signature.objects.filter(status="rejected").exists()


def test_criteria_combine_domain_window_and_status(staff_client, letter, flood):
    response = staff_client.post(
        URL,
        {
            "letter": letter.pk,
            "email_domain": "@SPAM.example",
            # On the letter's clock (New York, UTC-4): 12:01 to 12:07 UTC.
            "submitted_from": "2023-09-01T08:01",
            "submitted_until": "1 Sep 2023, 08:07",
            "statuses": ["approved", "confirmed"],
            "preview": "1",
        },
    )
    # 12:02 confirmed, 12:04 approved, 12:06 approved (12:00 is before the window, 12:08 after).
    assert shown_count(response) == 3


def test_a_reason_and_a_criterion_are_required(staff_client, letter, flood):
    nothing = staff_client.post(URL, {"letter": letter.pk, "preview": "1"})
    assert "Choose at least one criterion" in nothing.content.decode()

    no_reason = staff_client.post(
        URL, {"letter": letter.pk, "ip_hash": "bot", "expected_count": 5, "confirm": "1"}
    )
    assert "Give a reason" in no_reason.content.decode()
    assert not Signature.objects.filter(status="rejected").exists()


def test_the_queue_links_an_address_burst_to_the_invalidation_page(staff_client, letter, flood):
    for i in range(15):  # twenty from one network within the hour, with the flood's five
        moment = T0 + dt.timedelta(minutes=2 * i + 1)
        signature_row(
            letter, make_individual(), moment, status="confirmed", ip_hash="bot", submitted_at=moment
        )
    page = staff_client.get(URL, {"letter": letter.pk, "ip_hash": "bot"})
    assert page.status_code == 200
    assert 'value="bot"' in page.content.decode()
    queue = staff_client.get("/admin/letters/signature/").content.decode()
    assert f"/admin/letters/signature/invalidate/?letter={letter.pk}&amp;ip_hash=bot" in queue


def hidden(response, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', response.content.decode())
    assert match, f"the preview carries {name}"
    return match.group(1)


def test_nothing_changes_when_other_signatures_match_than_the_preview_showed(staff_client, letter, flood):
    bad, _ = flood
    criteria = {"letter": letter.pk, "ip_hash": "bot", "reason": "Spam"}
    preview = staff_client.post(URL, {**criteria, "preview": "1"})
    # Meanwhile a colleague rejects one of the five, and a sixth arrives: five match again.
    Signature.objects.filter(pk=bad[0].pk).update(status=Signature.Status.REJECTED)
    newcomer = signature_row(letter, make_individual("Not Seen"), T0, ip_hash="bot", submitted_at=T0)

    response = staff_client.post(
        URL,
        {
            **criteria,
            "expected_count": hidden(preview, "expected_count"),
            "expected_set": hidden(preview, "expected_set"),
            "confirm": "1",
        },
    )

    assert response.status_code == 200
    assert "changed since the preview" in response.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.status == Signature.Status.APPROVED
    assert Signature.objects.filter(status="rejected").count() == 1

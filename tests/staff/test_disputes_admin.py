"""Disputes wait in the staff panel; staff suspend, reinstate, reject or dismiss; authority is recorded."""

import pytest

from letters.lifecycle import dispute_open
from letters.models import Dispute, Letter, Signature
from letters.rosters import Roster
from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db

DISPUTES = "/admin/letters/dispute/"
SIGNATURES = "/admin/letters/signature/?queue=all"


@pytest.fixture
def dispute(letter):
    signature = signature_row(letter, make_individual("Famous Writer"))
    return dispute_open(
        letter=letter, signature=signature, contact_email="writer@example.org", message="I did not sign."
    )


def names(letter):
    return [entry.name for entry in Roster(letter).entries()]


def test_the_dashboard_counts_open_disputes_and_links_to_them(staff_client, dispute):
    html = staff_client.get("/admin/").content.decode()
    assert "Disputed names: 1 open" in html
    assert f'href="{DISPUTES}?status__exact=open"' in html


def test_a_moderator_sees_no_dispute(moderator_client, dispute):
    assert "Disputed names" not in moderator_client.get("/admin/").content.decode()
    assert moderator_client.get(DISPUTES).status_code == 403


def test_the_list_and_the_page_show_the_dispute(staff_client, dispute):
    assert "Famous Writer" in staff_client.get(DISPUTES).content.decode()
    page = staff_client.get(f"{DISPUTES}{dispute.pk}/change/").content.decode()
    assert "writer@example.org" in page and "I did not sign." in page and "on the list" in page


def test_suspending_then_reinstating_from_the_dispute(staff_client, dispute, letter):
    staff_client.post(DISPUTES, {"action": "suspend", "_selected_action": [dispute.pk]})
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.SUSPENDED and names(letter) == []
    staff_client.post(DISPUTES, {"action": "reinstate", "_selected_action": [dispute.pk]})
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.REINSTATED and names(letter) == ["Famous Writer"]


def test_rejecting_from_the_dispute(staff_client, dispute, letter):
    staff_client.post(DISPUTES, {"action": "reject", "_selected_action": [dispute.pk]})
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.REJECTED
    assert (
        dispute.signature.__class__.objects.get(pk=dispute.signature_id).status == Signature.Status.REJECTED
    )
    assert names(letter) == []


def test_dismissing_leaves_the_entry(staff_client, dispute, letter, staff):
    staff_client.post(DISPUTES, {"action": "dismiss", "_selected_action": [dispute.pk]})
    dispute.refresh_from_db()
    assert (dispute.status, dispute.decided_by) == (Dispute.Status.DISMISSED, staff)
    assert names(letter) == ["Famous Writer"]


def test_the_signature_actions_suspend_with_a_reason_and_reinstate(staff_client, letter):
    signature = signature_row(letter, make_individual("Famous Writer"))
    page = staff_client.post(SIGNATURES, {"action": "suspend", "_selected_action": [signature.pk]})
    assert 'name="reason"' in page.content.decode()
    staff_client.post(
        SIGNATURES,
        {"action": "suspend", "_selected_action": [signature.pk], "apply": "1", "reason": "Disputed"},
    )
    signature.refresh_from_db()
    assert signature.suspension_reason == "Disputed" and names(letter) == []
    queue = staff_client.get("/admin/letters/signature/", {"queue": "approved"}).content.decode()
    assert "approved, suspended" in queue
    staff_client.post(SIGNATURES, {"action": "reinstate", "_selected_action": [signature.pk]})
    assert names(letter) == ["Famous Writer"]


def test_staff_record_who_authorized_an_organizations_signature(staff_client, letter, staff):
    Letter.objects.filter(pk=letter.pk).update(requires_verified_organizations=True)
    letter.refresh_from_db()
    signature = signature_row(letter, make_organization("Example Network"))
    assert names(letter) == []
    form = {"action": "record_authorization", "_selected_action": [signature.pk], "apply": "1"}
    page = staff_client.post(SIGNATURES, form | {"name": "", "role": "", "how": ""})
    assert page.status_code == 200 and "This field is required." in page.content.decode()
    staff_client.post(
        SIGNATURES, form | {"name": "Amina Diallo", "role": "Director", "how": "Telephone call"}
    )
    signature.refresh_from_db()
    assert (signature.verification, signature.authorized_by_role, signature.verified_by) == (
        "staff",
        "Director",
        staff,
    )
    assert names(letter) == ["Example Network"]
    queue = staff_client.get("/admin/letters/signature/", {"queue": "approved"})
    assert "verified (staff)" in queue.content.decode()


def test_the_queue_shows_an_unverified_organization_and_a_doubtful_sort_name(staff_client, letter):
    signature_row(letter, make_organization("Example Network"), status="confirmed")
    signature_row(letter, make_individual("Lee Yanghee"), status="confirmed")
    signature_row(letter, make_individual("Shin Hee-seok", family_name="Shin"), status="confirmed")
    html = staff_client.get("/admin/letters/signature/").content.decode()
    assert "not verified" in html
    assert "sorts as “Yanghee, Lee”, check: “Lee” is a common East Asian family name" in html
    assert "“Shin” is a common" not in html


def test_the_letter_form_offers_the_checkbox_in_plain_words(staff_client, letter):
    html = staff_client.get(f"/admin/letters/letter/{letter.pk}/change/").content.decode()
    assert 'name="requires_verified_organizations"' in html
    assert "List an organization only once we know someone with authority signed for it" in html

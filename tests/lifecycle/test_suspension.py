"""
A disputed entry suspended by staff is off every day's list, earlier days
too, on every page and file, until staff reinstate it (docs/design.md,
"Who vouches for a name").
"""

import datetime as dt
import io
import json
import subprocess

import pytest
from docx import Document

from letters import lifecycle
from letters.lifecycle import TransitionError
from letters.models import Dispute, Letter, Signature
from letters.rosters import Roster
from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db

SIGNED = dt.datetime(2023, 9, 1, 12, tzinfo=dt.UTC)
DAY = dt.date(2023, 9, 2)


@pytest.fixture
def forged(letter):
    signature_row(letter, make_individual("Real Signer"), signed_at=SIGNED)
    return signature_row(letter, make_individual("Famous Writer"), signed_at=SIGNED)


def names(letter, day=None):
    return [entry.name for entry in Roster(letter, day).entries()]


def test_a_suspended_entry_is_off_todays_list_and_every_earlier_day(letter, forged, staff):
    lifecycle.signature_suspend(signature=forged, user=staff, reason="Disputed by its owner")
    assert names(letter) == ["Real Signer"]
    assert names(letter, DAY) == ["Real Signer"]
    assert Roster(letter, DAY).counts["total"] == 1


def test_reinstating_puts_it_back_on_every_day(letter, forged, staff):
    lifecycle.signature_suspend(signature=forged, user=staff, reason="Disputed")
    lifecycle.signature_reinstate(signature=forged, user=staff)
    assert names(letter, DAY) == ["Real Signer", "Famous Writer"]
    forged.refresh_from_db()
    assert (forged.suspended_at, forged.suspension_reason) == (None, "")


def test_suspending_changes_the_stored_pages(letter, forged, staff):
    before = Letter.objects.get(pk=letter.pk).roster_version
    lifecycle.signature_suspend(signature=forged, user=staff, reason="Disputed")
    suspended = Letter.objects.get(pk=letter.pk).roster_version
    lifecycle.signature_reinstate(signature=forged, user=staff)
    assert before < suspended < Letter.objects.get(pk=letter.pk).roster_version


def test_a_suspension_needs_a_reason(forged, staff):
    with pytest.raises(TransitionError):
        lifecycle.signature_suspend(signature=forged, user=staff, reason="  ")
    forged.refresh_from_db()
    assert forged.suspended_at is None


def test_suspending_twice_keeps_the_first_reason(forged, staff):
    lifecycle.signature_suspend(signature=forged, user=staff, reason="First")
    lifecycle.signature_suspend(signature=forged, user=staff, reason="Second")
    forged.refresh_from_db()
    assert forged.suspension_reason == "First"


def test_its_disputes_follow_the_decision(letter, forged, staff):
    dispute = Dispute.objects.create(letter=letter, signature=forged, contact_email="w@example.org")
    lifecycle.signature_suspend(signature=forged, user=staff, reason="Disputed")
    dispute.refresh_from_db()
    assert (dispute.status, dispute.decided_by) == (Dispute.Status.SUSPENDED, staff)
    lifecycle.signature_reinstate(signature=forged, user=staff)
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.REINSTATED


def test_a_suspended_entry_is_in_no_public_output(client, letter, forged, staff):
    lifecycle.signature_suspend(signature=forged, user=staff, reason="Disputed")
    for url in ("", "print/", "signatories.csv", "signatories.json", "embed/", "?as_of=2023-09-02"):
        response = client.get(f"/letters/{letter.slug}/{url}")
        assert response.status_code == 200, url
        body = b"".join(response) if response.streaming else response.content
        assert b"Famous Writer" not in body, url
        assert b"Real Signer" in body, url
    counts = json.loads(client.get(f"/letters/{letter.slug}/signatories.json").content)["counts"]
    assert counts["total"] == 1


@pytest.mark.parametrize("engine", ["typst", "weasyprint"])
def test_a_suspended_entry_is_in_neither_the_word_document_nor_the_pdf(
    client, letter, forged, staff, tmp_path, settings, engine
):
    settings.PDF_ENGINE = engine
    lifecycle.signature_suspend(signature=forged, user=staff, reason="Disputed")
    response = client.get(f"/letters/{letter.slug}/letter.docx")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = "\n".join(paragraph.text for paragraph in Document(io.BytesIO(body)).paragraphs)
    assert "Real Signer" in text and "Famous Writer" not in text
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(client.get(f"/letters/{letter.slug}/letter.pdf").content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Real Signer" in text and "Famous Writer" not in text
    # The dispute link is for the page, not the paper.
    assert "without your consent" not in text


def test_a_suspended_unnamed_signer_is_not_counted(letter, staff):
    hidden = signature_row(letter, make_organization("Hidden Org"), signed_at=SIGNED, unnamed=True)
    lifecycle.signature_suspend(signature=hidden, user=staff, reason="Disputed")
    assert Roster(letter, DAY).counts["unnamed_organizations"] == 0


# -- Who vouches for an organization ------------------------------------------


def test_a_letter_requiring_verified_organizations_lists_only_the_verified(letter):
    signature_row(letter, make_organization("Unverified Org"), signed_at=SIGNED)
    signature_row(
        letter, make_organization("Verified Org"), signed_at=SIGNED, verification=Signature.Verification.STAFF
    )
    signature_row(letter, make_individual("Some Person"), signed_at=SIGNED)
    assert names(letter) == ["Some Person", "Unverified Org", "Verified Org"]
    letter.requires_verified_organizations = True
    letter.save()
    assert names(letter) == ["Some Person", "Verified Org"]

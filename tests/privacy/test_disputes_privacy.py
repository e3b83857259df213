"""
Private data of disputes and of who vouches for a name: a reader's address and message are on no
public output, and gone with retention and with an erasure of the entry.
"""

import datetime as dt

import pytest
from django.utils import timezone

from letters import lifecycle
from letters.lifecycle.retention import personal_data_purge
from letters.models import Dispute
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db


def disputed(letter) -> Dispute:
    signature = signature_row(letter, make_individual("Famous Writer"), contact_email="famous@example.org")
    return lifecycle.dispute_open(
        letter=letter, signature=signature, contact_email="reader@example.org", message="Not my signature."
    )


def test_no_public_output_shows_a_readers_address_or_message(client, letter):
    disputed(letter)
    for url in ("", "print/", "signatories.csv", "signatories.json", "embed/", "dispute/"):
        response = client.get(f"/letters/{letter.slug}/{url}")
        body = b"".join(response) if response.streaming else response.content
        assert b"reader@example.org" not in body and b"Not my signature" not in body, url


def test_the_retention_purge_deletes_them_and_keeps_the_decision(settings, staff):
    settings.RETENTION_DAYS = 30
    dispute = disputed(make_letter(slug="old", closes_at=timezone.now() - dt.timedelta(days=31)))
    lifecycle.signature_suspend(signature=dispute.signature, user=staff, reason="Disputed")
    assert personal_data_purge().disputes == 1
    dispute.refresh_from_db()
    assert (dispute.contact_email, dispute.message, dispute.status) == ("", "", Dispute.Status.SUSPENDED)
    assert personal_data_purge().disputes == 0


def test_a_letter_within_retention_keeps_them(settings):
    settings.RETENTION_DAYS = 30
    dispute = disputed(make_letter(slug="recent", closes_at=timezone.now() - dt.timedelta(days=29)))
    personal_data_purge()
    dispute.refresh_from_db()
    assert dispute.contact_email == "reader@example.org"


def test_erasing_the_entry_deletes_them(letter):
    dispute = disputed(letter)
    lifecycle.signature_erase(signature=dispute.signature)
    dispute.refresh_from_db()
    assert (dispute.contact_email, dispute.message) == ("", "")


def test_the_retention_purge_deletes_who_authorized_an_organizations_signature(settings, staff):
    settings.RETENTION_DAYS = 30
    letter = make_letter(slug="old-org", closes_at=timezone.now() - dt.timedelta(days=31))
    signature = signature_row(letter, make_organization("Example Network"))
    lifecycle.signature_verify(
        signature=signature, user=staff, name="Amina Diallo", role="Director", how="A call"
    )
    personal_data_purge()
    signature.refresh_from_db()
    assert (signature.authorized_by_name, signature.authorized_by_role, signature.authorized_how) == (
        "",
        "",
        "",
    )
    assert (signature.verification, signature.verified_by) == ("staff", staff)

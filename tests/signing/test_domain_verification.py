"""An organization's signature confirmed from an address at its website's domain is verified by that."""

import pytest

from letters import lifecycle
from letters.models import Signature
from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db


def confirmed(letter, signatory, email: str) -> Signature:
    signature = signature_row(letter, signatory, status=Signature.Status.PENDING, contact_email=email)
    return lifecycle.signature_confirm(signature=signature)


def test_an_address_at_the_website_on_file_verifies_the_signature(letter):
    network = make_organization("Example Network", website="https://www.example.org/about")
    assert confirmed(letter, network, "director@example.org").verification == "domain"


def test_an_address_at_a_subdomain_does_too(letter):
    network = make_organization("Example Network", website="example.org")
    assert confirmed(letter, network, "ana@mail.example.org").verification == "domain"


@pytest.mark.parametrize("email", ["someone@gmail.com", "ana@example.net", "ana@notexample.org"])
def test_any_other_address_does_not(letter, email):
    network = make_organization("Example Network", website="https://example.org")
    assert confirmed(letter, network, email).verification == ""


def test_a_website_the_signer_typed_themselves_proves_nothing(letter):
    # The record's only signature is this unconfirmed claim: whoever made it chose the website.
    network = make_organization("Forged Network", website="https://forger.example")
    signature_row(
        letter, network, status=Signature.Status.REJECTED, contact_email="x@forger.example", signed_at=None
    )
    other = signature_row(
        letter, network, status=Signature.Status.PENDING, contact_email="y@forger.example", signed_at=None
    )
    assert lifecycle.signature_confirm(signature=other).verification == ""


def test_a_person_is_never_verified_by_domain(letter):
    person = make_individual("Jane Doe", email="jane@example.org")
    assert confirmed(letter, person, "jane@example.org").verification == ""


def test_the_record_a_signers_own_signup_made_proves_nothing(letter):
    network = make_organization("New Network", website="https://new.example", contact_email="me@new.example")
    assert confirmed(letter, network, "me@new.example").verification == ""


def test_a_record_another_signature_vouched_for_is_trusted(letter):
    network = make_organization("Known Network", website="https://known.example")
    signature_row(letter, network, source=Signature.Source.IMPORT)
    other_letter_signature = confirmed(
        letter.__class__.objects.create(slug="second", title="Second", body="x", status="open"),
        network,
        "ana@known.example",
    )
    assert other_letter_signature.verification == "domain"

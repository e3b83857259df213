"""
Signing without being named: the form's `publication` choice, always vetted
by staff, and changeable either way from the signer's page.
"""

import datetime as dt

import pytest

from letters import lifecycle
from letters.models import Letter, Signature
from letters.rosters import Roster
from letters.signing.tokens import make_manage_token
from signatories.models import Individual
from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db

URL = "/letters/civic-space/sign/"


def individual_data(**fields):
    return {
        "kind": "individual",
        "name": "Hidden Defender",
        "country": "NR",
        "email": "hidden@example.org",
        "public_consent": "on",
    } | fields


def organization_data(**fields):
    return {
        "kind": "organization",
        "organization_name": "Shadow Collective",
        "name": "Ana Pérez",
        "email": "ana@shadow.example.org",
        "public_consent": "on",
    } | fields


def manage_url(signature: Signature) -> str:
    return f"/manage/{make_manage_token(signature.pk)}/"


def test_the_form_offers_both_choices_with_publish_checked(client, letter):
    html = client.get(URL).content.decode()
    assert "Publish my name" in html
    assert "Count my signature but do not publish my name: for my safety" in html
    assert 'value="named" id="id_publication_0" checked' in html


def test_the_consent_is_true_of_both_choices_and_comes_after_them(client, letter):
    html = client.get(URL).content.decode()
    # It once read "I agree that my name is published", which an unnamed signer does not.
    assert "I agree that my name is published" not in html
    assert "or only counted without my name" in html
    assert html.index('name="publication"') < html.index('name="public_consent"')


def test_an_unnamed_signer_must_still_tick_the_consent(post, letter):
    response = post(URL, individual_data(publication="unnamed", public_consent=""))
    assert response.status_code == 400
    assert "can only be counted if you agree to its publication as you chose" in response.content.decode()
    assert not Signature.objects.exists()


def test_it_stores_an_unnamed_individual_signature(post, letter):
    response = post(URL, individual_data(publication="unnamed"))
    assert response.status_code == 302
    assert Signature.objects.get().unnamed is True


def test_it_stores_an_unnamed_organization_signature(post, letter):
    response = post(URL + "?as=organization", organization_data(publication="unnamed"))
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.is_organization and signature.unnamed


def test_a_form_without_the_choice_publishes_the_name(post, letter):
    post(URL, individual_data())
    assert Signature.objects.get().unnamed is False


def test_an_unknown_choice_is_an_error_next_to_the_field_and_stores_nothing(client, letter):
    response = client.post(URL, individual_data(publication="maybe"))
    assert response.status_code == 400
    assert (
        'id="id_publication_error"' in response.content.decode() or "errorlist" in response.content.decode()
    )
    assert not Signature.objects.exists() and not Individual.objects.exists()


def test_an_unnamed_signature_waits_for_staff_where_the_letter_needs_no_approval(letter):
    Letter.objects.filter(pk=letter.pk).update(requires_approval=False)
    letter.refresh_from_db()
    signature = signature_row(
        letter, make_individual("Hidden Defender"), status=Signature.Status.PENDING, unnamed=True
    )
    named = signature_row(letter, make_individual("Open Person"), status=Signature.Status.PENDING)

    lifecycle.signature_confirm(signature=signature)
    lifecycle.signature_confirm(signature=named)

    signature.refresh_from_db()
    named.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED
    assert named.status == Signature.Status.APPROVED


def test_the_signers_page_shows_the_choice_and_changes_it_either_way(client, letter):
    signature = signature_row(
        letter, make_individual("Jane Doe"), signed_at=dt.datetime(2023, 9, 1, tzinfo=dt.UTC)
    )
    html = client.get(manage_url(signature)).content.decode()
    assert "How the list shows you" in html and "Listed by name." in html

    response = client.post(manage_url(signature), {"action": "listing", "publication": "unnamed"})

    assert response.status_code == 302 and response.url.endswith("?done=listing")
    signature.refresh_from_db()
    assert signature.unnamed
    assert [entry.name for entry in Roster(letter).entries()] == []
    assert Roster(letter).counts["unnamed_individuals"] == 1

    client.post(manage_url(signature), {"action": "listing", "publication": "named"})
    signature.refresh_from_db()
    assert not signature.unnamed
    assert [entry.name for entry in Roster(letter).entries()] == ["Jane Doe"]


def test_an_organization_can_change_it_too(client, letter):
    signature = signature_row(letter, make_organization("Shadow Collective"))
    html = client.get(manage_url(signature)).content.decode()
    assert "Family name" not in html

    client.post(manage_url(signature), {"action": "listing", "publication": "unnamed"})

    signature.refresh_from_db()
    assert signature.unnamed


def test_a_bad_choice_on_the_signers_page_is_a_400_and_changes_nothing(client, letter):
    signature = signature_row(letter, make_individual("Jane Doe"))
    version = Letter.objects.get(pk=letter.pk).roster_version
    for data in ({"publication": "everyone"}, {}, {"publication": "unnamed", "family_name": "x" * 201}):
        response = client.post(manage_url(signature), {"action": "listing", **data})
        assert response.status_code == 400, data
        assert "errorlist" in response.content.decode()
    signature.refresh_from_db()
    assert not signature.unnamed
    assert Letter.objects.get(pk=letter.pk).roster_version == version


def test_the_signers_page_prefills_the_family_name_and_changes_the_order(client, letter):
    lee = make_individual("Lee Yanghee", family_name="Lee")
    signature = signature_row(letter, lee)
    signature_row(letter, make_individual("Anna Moreau"))
    signature_row(letter, make_individual("Yanghee Park"))
    html = client.get(manage_url(signature)).content.decode()
    assert 'value="Lee"' in html
    assert [entry.name for entry in Roster(letter).entries()] == [
        "Lee Yanghee",
        "Anna Moreau",
        "Yanghee Park",
    ]

    client.post(
        manage_url(signature), {"action": "listing", "publication": "named", "family_name": "Yanghee"}
    )

    lee.refresh_from_db()
    assert lee.family_name == "Yanghee"
    assert [entry.name for entry in Roster(letter).entries()] == [
        "Anna Moreau",
        "Yanghee Park",
        "Lee Yanghee",
    ]

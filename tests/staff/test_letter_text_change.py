"""The letter's change form once people signed (issue #26): editorial or material, with a note for signers."""

import pytest
from django.core import mail

from letters.models import Letter, LetterVersion
from tests.factories import letter_form_data, make_individual, signature_row

pytestmark = pytest.mark.django_db

NEW_BODY = "We urge the government to withdraw the draft law on associations at once."


@pytest.fixture
def signed(letter):
    signature_row(letter, make_individual("Jane Doe"), contact_email="jane@example.org")
    return letter


def url(letter) -> str:
    return f"/admin/letters/letter/{letter.pk}/change/"


def test_a_signed_text_does_not_change_without_its_kind_and_a_note(staff_client, signed):
    response = staff_client.post(url(signed), letter_form_data(signed, body=NEW_BODY))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "change_kind" in errors and "change_note" in errors
    signed.refresh_from_db()
    assert signed.body != NEW_BODY and not LetterVersion.objects.exists()


def test_an_unsigned_letter_changes_as_before(staff_client, letter):
    response = staff_client.post(url(letter), letter_form_data(letter, body=NEW_BODY))
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.body == NEW_BODY and not LetterVersion.objects.exists()


def test_other_fields_of_a_signed_letter_change_without_a_version(staff_client, signed):
    response = staff_client.post(url(signed), letter_form_data(signed, title="A new title?"))
    assert response.status_code == 200  # the title is words of the letter too
    response = staff_client.post(url(signed), letter_form_data(signed, section_order="organizations"))
    assert response.status_code == 302
    assert not LetterVersion.objects.exists()


def test_an_editorial_change_makes_a_version_and_asks_nobody(
    staff_client, signed, django_capture_on_commit_callbacks
):
    data = letter_form_data(signed, body=NEW_BODY, change_kind="editorial", change_note="A typo.")
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(url(signed), data).status_code == 302
    signed = Letter.objects.get(pk=signed.pk)
    assert (signed.body, signed.text_version, signed.material_version) == (NEW_BODY, 2, 1)
    assert mail.outbox == []


def test_a_material_change_e_mails_every_signer(staff_client, signed, django_capture_on_commit_callbacks):
    data = letter_form_data(signed, body=NEW_BODY, change_kind="material", change_note="Sharper demand.")
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(url(signed), data).status_code == 302
    signed = Letter.objects.get(pk=signed.pk)
    assert (signed.text_version, signed.material_version) == (2, 2)
    assert LetterVersion.objects.get(letter=signed, number=2).note == "Sharper demand."
    [message] = mail.outbox
    assert message.to == ["jane@example.org"] and "Sharper demand." in message.body


def test_the_form_shows_the_versions_and_an_outdated_translation(
    staff_client, signed, django_capture_on_commit_callbacks
):
    signed.translations.create(language="fr", status="ready", title="T", body="Texte.")
    data = letter_form_data(signed, body=NEW_BODY, change_kind="editorial", change_note="A typo.")
    staff_client.post(url(signed), data)
    html = staff_client.get(url(signed)).content.decode()
    assert "Version 2 is current" in html
    assert "the letter is at version 2" in html

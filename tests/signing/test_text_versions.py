"""
Signers and text versions (issue #26): the form carries the version it showed,
a text changed meanwhile is shown again and nothing is stored, and after a
material change the signer is e-mailed the diff and agrees on their page.
"""

import pytest
from django.core import mail

from letters import lifecycle
from letters.models import Letter, Signature
from letters.signing.tasks import send_text_change_email
from letters.signing.tokens import make_manage_token
from tests.factories import make_individual, signature_row

pytestmark = pytest.mark.django_db

URL = "/letters/civic-space/sign/"
NEW_BODY = "We urge the government to withdraw the draft law on associations at once."


def individual_data(**fields):
    return {"name": "Ana Pérez", "country": "AR", "email": "ana@example.org", "public_consent": "on"} | fields


@pytest.fixture
def signed(letter):
    return signature_row(
        letter,
        make_individual("Jane Doe", email="jane@example.org"),
        contact_email="jane@example.org",
        language="fr",
    )


def change(letter, material=True):
    return lifecycle.letter_text_change(
        letter=letter, user=None, material=material, note="We now ask for withdrawal.", body=NEW_BODY
    )


def test_the_form_carries_the_version_it_shows(client, signed):
    change(signed.letter)
    html = client.get(URL).content.decode()
    assert '<input type="hidden" name="text_version" value="2">' in html


def test_a_signature_records_the_version_its_form_showed(post, signed):
    change(signed.letter)
    assert post(URL, individual_data(text_version="2")).status_code == 302
    assert Signature.objects.get(individual__name="Ana Pérez").text_version == 2


def test_a_text_changed_since_the_form_opened_is_shown_and_nothing_stored(post, signed):
    change(signed.letter)
    response = post(URL, individual_data(text_version="1"))
    assert response.status_code == 409
    html = response.content.decode()
    assert "The text of the letter changed while you were filling in the form" in html
    assert NEW_BODY in html
    assert 'value="Ana Pérez"' in html  # what was typed comes back
    assert not Signature.objects.filter(individual__name="Ana Pérez").exists()
    assert mail.outbox == []


@pytest.mark.parametrize("shown", ["", "abc", "99999999999999999999", "2 OR 1=1"])
def test_a_damaged_version_is_asked_again_never_a_500(post, signed, shown):
    change(signed.letter)
    assert post(URL, individual_data(text_version=shown)).status_code == 409
    assert not Signature.objects.filter(individual__name="Ana Pérez").exists()


def test_a_form_opened_before_anyone_signed_still_signs_version_1(post, letter):
    html_version = "0"
    signature_row(letter, make_individual("Jane Doe"))
    assert post(URL, individual_data(text_version=html_version)).status_code == 302


def test_a_material_change_e_mails_the_signer_the_diff_in_their_language(signed):
    version = change(signed.letter)
    send_text_change_email.enqueue(signature_id=signed.pk, version=version.number)
    [message] = mail.outbox
    assert message.to == ["jane@example.org"]
    assert message.subject.startswith("Le texte que vous avez signé a changé")
    assert "Vous avez signé la version 1" in message.body
    assert "[-" in message.body and "{+" in message.body and "withdraw" in message.body
    assert "We now ask for withdrawal." in message.body
    assert f"/manage/{make_manage_token(signed.pk)}/" in message.body
    html = message.alternatives[0][0]
    assert "<ins>" in html and "<del>" in html
    assert 'lang="fr"' in html


def test_no_e_mail_once_the_signer_agreed(signed):
    version = change(signed.letter)
    lifecycle.signature_reconsent(signature=signed)
    send_text_change_email.enqueue(signature_id=signed.pk, version=version.number)
    assert mail.outbox == []


def test_the_signers_page_shows_the_change_and_keeps_the_name_under_the_new_text(client, signed):
    change(signed.letter)
    url = f"/manage/{make_manage_token(signed.pk)}/"
    html = client.get(url).content.decode()
    assert "Le texte que vous avez signé a changé" in html  # in the language she signed in
    assert 'name="action" value="reconsent"' in html
    assert "<ins>" in html
    response = client.post(url, {"action": "reconsent"})
    assert response.status_code == 302 and response["Location"].endswith("?done=reconsented")
    signed.refresh_from_db()
    assert signed.text_version == 2
    assert "The text you signed has changed" not in client.get(url).content.decode()
    assert "signed an earlier version" not in client.get("/letters/civic-space/").content.decode()


def test_agreeing_when_nothing_changed_is_a_400(client, signed):
    change(signed.letter, material=False)
    response = client.post(f"/manage/{make_manage_token(signed.pk)}/", {"action": "reconsent"})
    assert response.status_code == 400
    signed.refresh_from_db()
    assert signed.text_version == 1


def test_the_list_marks_the_signer_until_they_agree(client, signed):
    change(signed.letter)
    assert "signed an earlier version" in client.get("/letters/civic-space/").content.decode()
    lifecycle.signature_reconsent(signature=signed)
    assert Letter.objects.get(pk=signed.letter_id).roster_version > 0
    assert "signed an earlier version" not in client.get("/letters/civic-space/").content.decode()


def test_agreeing_on_the_page_of_an_erased_signature_changes_nothing(client, signed):
    change(signed.letter)
    lifecycle.signature_erase(signature=signed)
    response = client.post(f"/manage/{make_manage_token(signed.pk)}/", {"action": "reconsent"})
    assert response.status_code == 400
    assert Signature.objects.get(pk=signed.pk).text_version == 1

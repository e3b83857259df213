"""Invitations to sign: a personal link that signs without a second e-mail, decline, and the way out."""

import datetime as dt
import logging
import re

import pytest
from django.core import mail
from django.utils import timezone

from letters import lifecycle
from letters.models import Invitation, Letter, Signature, Suppression
from letters.signing.invitations import invitations_create, invitations_remind
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """Invite `signatories` to `letter` as the admin action does, running the queued e-mails."""

    def invite(letter: Letter, *signatories):
        with django_capture_on_commit_callbacks(execute=True):
            return invitations_create(letter=letter, signatories=list(signatories))

    return invite


def circulating(**fields) -> Letter:
    fields = {"slug": "quiet", "title": "A quiet letter", "status": Letter.Status.CIRCULATING} | fields
    return make_letter(**fields)


def link(message) -> str:
    return re.search(r"/invitations/[^/\s]+/", message.body).group(0)


def test_an_invitation_signs_without_a_second_email(invite, post, client, caplog):
    caplog.set_level(logging.DEBUG)
    letter = circulating(requires_approval=False)
    lee = make_individual("Lee Yanghee", title="Former Special Rapporteur", email="lee@example.org")
    assert invite(letter, lee).invited == 1
    [message] = mail.outbox
    assert message.to == ["lee@example.org"] and "A quiet letter" in message.subject
    url = link(message)
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "We write to you." in html  # the letter's text
    assert 'value="Lee Yanghee"' in html and 'value="Former Special Rapporteur"' in html  # as it would print
    assert page.headers["Referrer-Policy"] == "no-referrer" and "no-store" in page.headers["Cache-Control"]

    entry = {"name": "Lee Yanghee", "title": "Former Special Rapporteur", "public_consent": "on"}
    response = post(url, entry)
    assert response.status_code == 302
    signature = Signature.objects.get(letter=letter)
    assert signature.status == Signature.Status.APPROVED  # confirmed at once: the link proved the address
    assert signature.individual == lee and signature.contact_email == "lee@example.org"
    assert len(mail.outbox) == 1  # no confirmation e-mail
    invitation = Invitation.objects.get()
    assert invitation.signature == signature and invitation.answer == "signed"
    assert "Thank you: you have signed this letter." in client.get(url).content.decode()
    assert invitation.token not in caplog.text


def test_an_invited_organization_is_still_vetted_by_staff(invite, post):
    letter = circulating(requires_approval=False)
    ngo = make_organization("Civic Voices", acronym="CV", country="KR", contact_email="info@cv.example")
    invite(letter, ngo)
    url = link(mail.outbox[0])
    fields = {"organization_name": "Civic Voices", "acronym": "CV", "name": "Kim", "public_consent": "on"}
    assert post(url, fields).status_code == 302
    signature = Signature.objects.get(letter=letter)
    assert signature.organization == ngo
    assert signature.status == Signature.Status.CONFIRMED  # awaits approval, as every organization's
    assert len(mail.outbox) == 1


def test_an_organization_signed_through_its_invitation_is_verified_by_it(invite, post):
    # "made through an invitation to its known contact, is verified by that": the
    # invitation flow left `verification` empty, so a letter requiring verified
    # organizations never listed the partners it invited.
    letter = circulating(requires_approval=False)
    letter.requires_verified_organizations = True
    letter.save()
    ngo = make_organization("Civic Voices", acronym="CV", country="KR", contact_email="info@cv.example")
    person = make_individual("Ana", email="ana@example.org")
    invite(letter, ngo)
    invite(letter, person)
    organization_link, person_link = (link(message) for message in mail.outbox[:2])
    post(
        organization_link,
        {"organization_name": "Civic Voices", "acronym": "CV", "name": "Kim", "public_consent": "on"},
    )
    post(person_link, {"name": "Ana", "public_consent": "on"})

    organization = Signature.objects.get(letter=letter, organization=ngo)
    assert organization.verification == Signature.Verification.INVITATION
    assert Signature.objects.get(letter=letter, individual=person).verification == ""
    lifecycle.signatures_approve(signatures=Signature.objects.filter(pk=organization.pk), user=None)
    assert organization in Signature.objects.on_roster(letter)


def test_the_address_is_the_invitations_whatever_is_posted(invite, post):
    letter = circulating()
    invite(letter, make_individual("Ana", email="ana@example.org"))
    post(link(mail.outbox[0]), {"name": "Ana", "email": "someone@else.example", "public_consent": "on"})
    assert Signature.objects.get().contact_email == "ana@example.org"


def test_a_bad_entry_is_refused_next_to_the_field_and_nothing_is_stored(invite, post):
    letter = circulating()
    invite(letter, make_individual("Ana", email="ana@example.org"))
    response = post(link(mail.outbox[0]), {"name": "", "public_consent": "on"})
    assert response.status_code == 400
    assert "field-invalid" in response.content.decode()
    assert not Signature.objects.exists()


def test_decline_is_one_button(invite, post, client):
    letter = circulating()
    invite(letter, make_individual("Ana", email="ana@example.org"))
    url = link(mail.outbox[0])
    assert post(url + "decline/", {}).status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.declined_at is not None and invitation.answer == "declined"
    assert "You declined this invitation." in client.get(url).content.decode()
    assert client.get(url + "decline/").status_code == 405  # a mail scanner's GET declines nothing


def test_the_deadline_refuses_invited_signatures(invite, post, client):
    letter = circulating(timezone="Asia/Seoul", sign_by=timezone.now() + dt.timedelta(hours=1))
    invite(letter, make_individual("Ana", email="ana@example.org"))
    url = link(mail.outbox[0])
    assert "Sign by" in mail.outbox[0].body and "KST" in mail.outbox[0].body
    Letter.objects.filter(pk=letter.pk).update(sign_by=timezone.now() - dt.timedelta(minutes=1))
    html = client.get(url).content.decode()
    assert "The time to sign this letter ended on" in html
    assert post(url, {"name": "Ana", "public_consent": "on"}).status_code == 403
    assert not Signature.objects.exists()


def test_an_open_letter_takes_invited_signatures_too(invite, post):
    letter = make_letter(requires_approval=False)
    invite(letter, make_individual("Ana", email="ana@example.org"))
    assert post(link(mail.outbox[0]), {"name": "Ana", "public_consent": "on"}).status_code == 302
    assert Signature.objects.get().status == Signature.Status.APPROVED


def test_a_wrong_token_is_the_404_of_any_missing_page(client, invite):
    invite(circulating(), make_individual("Ana", email="ana@example.org"))
    wrong_url, missing_url = "/invitations/" + "x" * 43 + "/", "/letters/no-such-letter/"
    wrong, missing = client.get(wrong_url), client.get(missing_url)
    assert wrong.status_code == missing.status_code == 404
    page = wrong.content.replace(wrong_url.encode(), b"")
    assert page == missing.content.replace(missing_url.encode(), b"")
    assert wrong.headers["Cache-Control"] == missing.headers["Cache-Control"]
    assert client.post("/invitations/nope/decline/").status_code == 404


def test_too_many_wrong_tokens_get_429(client, settings):
    settings.PRIVATE_LINK_RATE_LIMIT = "3/h"
    codes = [client.get(f"/invitations/guess{n}/").status_code for n in range(4)]
    assert codes == [404, 404, 404, 429]


def test_a_stranger_sees_nothing_of_the_letter_elsewhere(invite, client):
    letter = circulating()
    invite(letter, make_individual("Ana", email="ana@example.org"))
    assert client.get(letter.get_absolute_url()).status_code == 404
    assert client.get(f"/letters/{letter.slug}/signatories.json").status_code == 404


def test_suppression_is_honoured_by_a_later_letters_invitations(invite, post, client):
    ana = make_individual("Ana", email="Ana+letters@Example.org")
    invite(circulating(), ana)
    stop = link(mail.outbox[0]) + "stop/"
    assert "stop/" in mail.outbox[0].body
    assert client.get(stop).status_code == 200
    assert not Suppression.objects.exists()  # opening the link changes nothing: mail scanners open links
    post(stop, {})
    assert Suppression.objects.suppresses("ana@example.org")
    outcome = invite(make_letter(slug="later"), ana)
    assert (outcome.invited, outcome.suppressed) == (0, 1)
    assert len(mail.outbox) == 1


def test_an_invitation_queued_before_the_suppression_is_not_sent(django_capture_on_commit_callbacks):
    ana = make_individual("Ana", email="ana@example.org")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        invitations_create(letter=circulating(), signatories=[ana])
    Suppression.add("ANA@example.org")
    for callback in queued:
        callback()
    assert mail.outbox == []


def test_an_address_is_invited_once_per_letter(invite):
    letter = circulating()
    ana = make_individual("Ana", email="ana@example.org")
    assert invite(letter, ana).invited == 1
    assert invite(letter, ana).already == 1
    assert invite(letter, make_organization("No address")).without_address == 1
    assert len(mail.outbox) == 1


def test_the_invitation_is_in_the_recipients_language(invite, letter):
    ana = make_individual("Ana", email="ana@example.org")
    signature_row(letter, ana, language="fr")
    invite(circulating(), ana)
    assert "?lang=fr" in mail.outbox[0].body  # the page opens in French too
    assert "Bonjour" in mail.outbox[0].body


def test_a_reminder_goes_at_most_once_in_three_days(invite, django_capture_on_commit_callbacks):
    letter = circulating()
    ana, bo = make_individual("Ana", email="ana@example.org"), make_individual("Bo", email="bo@example.org")
    invite(letter, ana, bo)
    Invitation.objects.update(sent_at=timezone.now() - dt.timedelta(days=4))
    Invitation.objects.filter(email="bo@example.org").update(declined_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations_remind(invitations=letter.invitations.all()) == 1
        assert invitations_remind(invitations=letter.invitations.all()) == 0
    assert len(mail.outbox) == 3 and mail.outbox[-1].subject.startswith("Reminder")
    Invitation.objects.update(reminded_at=timezone.now() - dt.timedelta(days=3, minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations_remind(invitations=letter.invitations.all()) == 1


def test_the_token_never_appears_in_logs(invite, post, client, caplog):
    caplog.set_level(logging.DEBUG)
    invite(circulating(), make_individual("Ana", email="ana@example.org"))
    url = link(mail.outbox[0])
    client.get(url)
    assert post(url, {"name": "", "public_consent": "on"}).status_code == 400  # Django logs 4xx paths
    assert client.get(url + "decline/").status_code == 405
    assert client.put(url).status_code == 405
    post(url + "decline/", {})
    client.get("/invitations/not-a-token/")
    token = Invitation.objects.get().token
    assert token not in caplog.text and "ana@example.org" not in caplog.text
    assert "not-a-token" not in caplog.text


def test_the_email_has_no_tracking_pixel(invite):
    invite(circulating(), make_individual("Ana", email="ana@example.org"))
    html = mail.outbox[0].alternatives[0][0]
    assert "<img" not in html.lower()


@pytest.mark.parametrize("token", ["x" * 5000, "%00", "é😀", "..%2F..%2Fetc", "<script>", "a b"])
def test_a_hostile_token_is_a_plain_404(client, token):
    for suffix in ("", "decline/", "stop/"):
        assert client.get(f"/invitations/{token}/{suffix}").status_code in (404, 405)
        assert client.post(f"/invitations/{token}/{suffix}", {"name": "x"}).status_code == 404
    assert not Invitation.objects.exists() and not Suppression.objects.exists()


def test_an_invitation_to_a_draft_letter_is_404(invite, client):
    letter = make_letter(status=Letter.Status.DRAFT)
    ana = make_individual("Ana", email="ana@example.org")
    invitation = Invitation.objects.create(letter=letter, individual=ana, email=ana.email)
    assert client.get(f"/invitations/{invitation.token}/").status_code == 404

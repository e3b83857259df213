import re
import time
from unittest import mock

import pytest
from django.core import mail

from letters.lifecycle.merging import individual_merge
from letters.models import Letter, Signature
from letters.signing.tokens import make_confirm_token, make_manage_token, read_manage_token
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Run what waits for the commit (e-mail tasks) as a real request would."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


def pending(letter, **fields):
    fields.setdefault("contact_email", "jane@example.org")
    return signature_row(
        letter, make_individual("Jane Doe", email="jane@example.org"), status="pending", **fields
    )


def pending_organization(letter):
    return signature_row(
        letter, make_organization("Open Society"), status="pending", contact_email="ana@example.org"
    )


def old_token(signature_id: int, days: int) -> str:
    with mock.patch("django.core.signing.time.time", return_value=time.time() - days * 86400):
        return make_confirm_token(signature_id)


def test_confirming_lists_an_individual_when_the_letter_needs_no_approval(client):
    letter = make_letter(slug="civic-space", requires_approval=False)
    signature = pending(letter)
    response = client.post(f"/confirm/{make_confirm_token(signature.pk)}/", follow=True)
    assert response.status_code == 200
    assert "on the list" in response.content.decode()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.APPROVED
    assert signature.confirmed_at is not None
    assert signature.signed_at == signature.confirmed_at == signature.approved_at
    assert "Jane Doe" in client.get("/letters/civic-space/").content.decode()


def test_confirming_waits_for_approval_when_the_letter_requires_it(client, letter):
    assert letter.requires_approval
    signature = pending(letter)
    html = client.post(f"/confirm/{make_confirm_token(signature.pk)}/", follow=True).content.decode()
    assert "awaiting approval" in html
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED
    assert signature.signed_at == signature.confirmed_at
    assert signature.approved_at is None
    assert "Jane Doe" not in client.get("/letters/civic-space/").content.decode()


def test_organization_signatures_always_wait_for_approval(client):
    letter = make_letter(requires_approval=False)
    signature = pending_organization(letter)
    html = client.post(f"/confirm/{make_confirm_token(signature.pk)}/", follow=True).content.decode()
    assert "awaiting approval" in html
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED


def test_confirming_twice_changes_nothing(client):
    letter = make_letter(requires_approval=False)
    signature = pending(letter)
    url = f"/confirm/{make_confirm_token(signature.pk)}/"
    client.post(url)
    signature.refresh_from_db()
    first = (signature.status, signature.confirmed_at, signature.signed_at, signature.updated_at)
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert "on the list" in response.content.decode()
    signature.refresh_from_db()
    assert (signature.status, signature.confirmed_at, signature.signed_at, signature.updated_at) == first


@pytest.mark.parametrize("method", ["get", "head"])
def test_opening_the_link_changes_nothing_until_the_button_is_pressed(client, method):
    # Issue #12, 1: a mail scanner's GET or HEAD confirmed and published the name.
    letter = make_letter(slug="civic-space", requires_approval=False)
    signature = pending(letter)
    url = f"/confirm/{make_confirm_token(signature.pk)}/"

    response = getattr(client, method)(url)

    assert response.status_code == 200
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING
    assert signature.confirmed_at is None
    assert "Jane Doe" not in client.get("/letters/civic-space/").content.decode()
    if method == "get":
        html = response.content.decode()
        assert '<form method="post"' in html
        assert "Confirm my signature" in html
        assert "<script" not in html


def test_an_expired_link_says_so_and_offers_a_new_one(client, run_tasks, letter):
    signature = pending(letter)
    token = old_token(signature.pk, days=8)
    response = client.get(f"/confirm/{token}/")
    assert response.status_code == 400
    html = response.content.decode()
    assert "This link has expired" in html
    assert f'action="/confirm/{token}/new-link/"' in html
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING

    response = run_tasks(client.post, f"/confirm/{token}/new-link/")
    assert "We have sent a new confirmation link" in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["jane@example.org"]
    new_link = re.search(r"/confirm/[^/\s]+/", message.body).group(0)
    client.post(new_link)
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED


def test_an_expired_or_invalid_links_page_keeps_the_language_asked_for(client, letter):
    # Its form posted to /confirm/<t>/new-link/ without ?lang=, and "See all letters" dropped it too.
    token = old_token(pending(letter).pk, days=8)
    html = client.get(f"/confirm/{token}/?lang=ko").content.decode()
    assert f'action="/confirm/{token}/new-link/?lang=ko"' in html
    for url in ["/confirm/not-a-token/?lang=ko", "/manage/not-a-token/?lang=ko"]:
        assert '<p><a href="/?lang=ko">' in client.get(url).content.decode()


def test_too_many_new_links_is_said_in_the_signers_language(client, letter, settings):
    # The rate limit answered before the view switched to the signer's language: an English page.
    settings.SIGNUP_RATE_LIMIT = "1/h"
    token = old_token(pending(letter, language="ko").pk, days=8)
    client.post(f"/confirm/{token}/new-link/")
    response = client.post(f"/confirm/{token}/new-link/")
    assert response.status_code == 429
    assert "시도 횟수 초과" in response.content.decode()


def test_a_link_within_its_lifetime_works(client, letter):
    signature = pending(letter)
    client.post(f"/confirm/{old_token(signature.pk, days=6)}/")
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + "xx", lambda t: "1" + t[1:], lambda t: "nonsense"])
def test_a_tampered_link_is_refused_with_a_clear_page(client, letter, mangle):
    signature = pending(letter)
    response = client.get(f"/confirm/{mangle(make_confirm_token(signature.pk))}/")
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING


def test_a_tampered_link_cannot_ask_for_a_new_one(client, letter):
    signature = pending(letter)
    response = client.post(f"/confirm/{make_confirm_token(signature.pk)[:-3]}abc/new-link/")
    assert response.status_code == 400
    assert not mail.outbox


def test_a_withdrawal_token_does_not_confirm(client, letter):
    signature = pending(letter)
    response = client.get(f"/confirm/{make_manage_token(signature.pk)}/")
    assert response.status_code == 400
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING


def test_a_link_to_a_signature_that_is_gone_is_not_valid(client, letter):
    assert client.get(f"/confirm/{make_confirm_token(999999)}/").status_code == 400


def test_a_letter_closed_before_confirmation_keeps_the_signature_out(client, letter):
    signature = pending(letter)
    Letter.objects.filter(pk=letter.pk).update(status=Letter.Status.CLOSED)
    response = client.post(f"/confirm/{make_confirm_token(signature.pk)}/")
    assert response.status_code == 403
    assert "closed to new signatures before this signature was confirmed" in response.content.decode()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING
    assert signature.signed_at is None


def test_a_withdrawn_or_rejected_signature_is_not_confirmed(client, letter):
    withdrawn = pending(letter)
    withdrawn.withdrawn_at = withdrawn.submitted_at
    withdrawn.save()
    rejected = signature_row(
        letter, make_individual("Rejected"), status="rejected", contact_email="r@example.org"
    )
    withdrawn_page = client.post(f"/confirm/{make_confirm_token(withdrawn.pk)}/", follow=True)
    rejected_page = client.post(f"/confirm/{make_confirm_token(rejected.pk)}/", follow=True)
    assert "withdrawn" in withdrawn_page.content.decode()
    assert "did not accept" in rejected_page.content.decode()
    withdrawn.refresh_from_db()
    rejected.refresh_from_db()
    assert withdrawn.status == Signature.Status.PENDING and withdrawn.confirmed_at is None
    assert rejected.status == Signature.Status.REJECTED and rejected.confirmed_at is None


def test_after_a_merge_a_never_confirmed_link_never_reaches_the_entry_kept_in_its_place(
    client, letter, staff
):
    # Jane signed from two addresses; staff merged the two records, keeping her listed signature.
    listed = signature_row(
        letter, make_individual("Jane Doe", email="jane@example.org"), contact_email="jane@example.org"
    )
    retired = signature_row(
        letter,
        make_individual("Jane Doe", email="jane.doe@work.example"),
        status="pending",
        contact_email="jane.doe@work.example",
    )
    individual_merge(keep=listed.individual, duplicates=[retired.individual], user=staff)

    page = client.get(f"/confirm/{make_confirm_token(retired.pk)}/").content.decode()

    # A signature never confirmed is what anyone may have typed (a stranger's "Jane Doe" merged on a
    # name alone): its link acts on it alone, never on the entry kept in its place.
    assert "on the list of" not in page
    assert "jane@example.org" not in page


def test_the_confirmation_page_links_to_the_signers_page(client, letter):
    signature = pending(letter)
    html = client.get(f"/confirm/{make_confirm_token(signature.pk)}/").content.decode()
    token = re.search(r'href="/manage/([^/"]+)/"', html).group(1)
    assert read_manage_token(token) == signature.pk
    assert "jane@example.org" not in html


def test_a_signer_who_lost_the_email_asks_for_a_new_link(client, run_tasks, letter):
    signature = pending(letter)
    assert client.get("/letters/civic-space/sign/new-link/").status_code == 200
    response = run_tasks(client.post, "/letters/civic-space/sign/new-link/", {"email": "JANE@example.org"})
    assert response.status_code == 200
    assert "we have sent it a new link" in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["jane@example.org"]
    client.post(re.search(r"/confirm/[^/\s]+/", message.body).group(0))
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED


def test_a_new_link_finds_an_organizations_claim_by_its_mailbox_as_an_individuals(client, run_tasks, letter):
    # The same mailbox, however it is written: one rule (identity.canonical) for claims and people alike.
    claim = signature_row(
        letter, make_organization("Open Society"), status="pending", contact_email="Ana.Lopez+sign@gmail.com"
    )
    response = run_tasks(client.post, "/letters/civic-space/sign/new-link/", {"email": "analopez@gmail.com"})
    assert response.status_code == 200
    [message] = mail.outbox
    assert message.to == ["Ana.Lopez+sign@gmail.com"]  # the address on file, not the one typed
    assert re.search(r"/confirm/([^/\s]+)/", message.body).group(1)
    claim.refresh_from_db()
    assert claim.status == Signature.Status.PENDING


def test_a_new_link_comes_in_the_language_the_signer_signed_in(client, run_tasks, letter):
    # Its subject, sentences and links were in English whatever the language: missing from every catalogue.
    pending(letter, language="fr")
    run_tasks(client.post, "/letters/civic-space/sign/new-link/?lang=fr", {"email": "jane@example.org"})
    [message] = mail.outbox
    assert message.subject == "Votre lien de confirmation : Protect civic space"
    assert "Quelqu’un, probablement vous, a demandé un nouveau lien de confirmation" in message.body
    assert "Pour la confirmer, ouvrez ce lien dans les" in message.body
    assert "Pour la corriger, la retirer ou l’effacer, maintenant ou plus tard, ouvrez :" in message.body
    html = message.alternatives[0].content
    assert "Confirmer cette signature" in html and "la corriger, la retirer ou l’effacer" in html


def test_asking_for_a_new_link_never_tells_whether_an_address_signed(client, run_tasks, letter):
    confirmed = signature_row(letter, make_individual("Con Firmed", email="confirmed@example.org"))
    assert confirmed.status == Signature.Status.APPROVED
    answers = {
        email: run_tasks(client.post, "/letters/civic-space/sign/new-link/", {"email": email}).content
        for email in ["confirmed@example.org", "stranger@example.org"]
    }
    assert answers["confirmed@example.org"] == answers["stranger@example.org"]
    assert not mail.outbox


def test_asking_for_a_new_link_with_a_bad_address_says_so_next_to_the_field(client, letter):
    response = client.post("/letters/civic-space/sign/new-link/", {"email": "nope"})
    assert response.status_code == 400
    assert 'id="id_email_error"' in response.content.decode()


def test_the_signers_pages_speak_the_language_they_signed_in(client, letter):
    signature = pending(letter, language="ko")

    confirm_page = client.get(f"/confirm/{make_confirm_token(signature.pk)}/").content.decode()
    own_page = client.get(f"/manage/{make_manage_token(signature.pk)}/").content.decode()

    for html in (confirm_page, own_page):
        assert '<html lang="ko"' in html
    assert "서명 확인하기" in confirm_page
    assert "Confirm my signature" not in confirm_page


def test_an_expired_link_of_a_signature_already_confirmed_says_where_it_stands(client, letter):
    # It said "This link has expired… ask for a new link", and the new-link button then said
    # "This signature is already confirmed."
    signature = signature_row(
        letter, make_individual("Jane Doe", email="jane@example.org"), contact_email="jane@x.org"
    )
    token = old_token(signature.pk, days=30)

    html = client.get(f"/confirm/{token}/").content.decode()

    assert "This link has expired" not in html and "Thank you for signing" in html
    assert client.post(f"/confirm/{token}/").status_code == 302


def test_a_new_link_for_a_rejected_signature_says_the_organizers_did_not_accept_it(client, letter):
    # It said "This signature is already confirmed."
    signature = pending(letter)
    Signature.objects.filter(pk=signature.pk).update(status=Signature.Status.REJECTED)
    token = old_token(signature.pk, days=8)

    html = client.post(f"/confirm/{token}/new-link/").content.decode()

    assert "The organizers did not accept this signature" in html and "already confirmed" not in html
    assert not mail.outbox


def test_a_strangers_claim_a_merge_kept_on_someone_elses_record_waits_for_staff_when_confirmed(
    client, letter, staff
):
    # A stranger typed "Jane Doe" with their own address on another letter; staff merged the namesakes,
    # keeping Jane's record. The stranger's link then listed Jane on a letter she never signed.
    jane = signature_row(
        letter, make_individual("Jane Doe", email="jane@example.org"), contact_email="jane@example.org"
    ).individual
    other = make_letter(slug="other-letter", requires_approval=False)
    claim = signature_row(
        other,
        make_individual("Jane Doe", email="stranger@example.net"),
        status="pending",
        contact_email="stranger@example.net",
    )
    individual_merge(keep=jane, duplicates=[claim.individual], user=staff)
    claim.refresh_from_db()
    assert claim.individual_id == jane.pk  # kept on Jane's record

    client.post(f"/confirm/{make_confirm_token(claim.pk)}/")

    claim.refresh_from_db()
    assert claim.confirmed_at is not None  # the stranger's address is proven, not the name
    assert claim.status == Signature.Status.CONFIRMED  # held for staff, not listed
    assert not other.signatures.filter(status=Signature.Status.APPROVED).exists()


def test_a_signer_confirming_on_their_own_record_is_listed_at_once(client):
    signature = pending(make_letter(slug="open", requires_approval=False))
    client.post(f"/confirm/{make_confirm_token(signature.pk)}/")
    signature.refresh_from_db()
    assert signature.status == Signature.Status.APPROVED

"""Inviting partners from the staff panel: the address book, "Invite to letter…", counts and reminders."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from letters.models import Invitation, Letter, Signature, Suppression
from letters.signing.invitations import invitation_sign
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db

BOOK = "/admin/letters/invitation/address-book/"


@pytest.fixture
def book(letter):
    """Who is in the address book and who is not."""
    return {
        # Agreed to be contacted when signing a letter.
        "consented": signature_row(
            letter,
            make_organization("Civic Voices", country="KR"),
            contact_consent=True,
            contact_email="kim@cv.example",
        ).organization,
        # A partner staff entered, with a contact address and no signature.
        "partner": make_organization("Seoul Partners", country="KR", contact_email="hello@sp.example"),
        # Signed without agreeing to be contacted: not in the book.
        "silent": signature_row(
            letter, make_organization("Quiet NGO", contact_email="q@q.example")
        ).organization,
        "person": signature_row(
            letter,
            make_individual("Lee Yanghee", email="lee@example.org", country="KR"),
            contact_consent=True,
        ).individual,
        "french": make_organization("Paris Partners", country="FR", contact_email="p@pp.example"),
    }


def test_the_address_book_lists_who_may_be_invited(staff_client, book):
    html = staff_client.get(BOOK).content.decode()
    assert "Civic Voices" in html and "Seoul Partners" in html and "Paris Partners" in html
    assert "Quiet NGO" not in html and "Lee Yanghee" not in html  # individuals are the other kind
    assert "kim@cv.example" in html  # the address given with the consenting signature
    html = staff_client.get(BOOK, {"kind": "individuals"}).content.decode()
    assert "Lee Yanghee" in html and "Civic Voices" not in html


def test_the_address_book_filters_by_letter_signed_and_country(staff_client, book, letter):
    html = staff_client.get(BOOK, {"signed": letter.pk}).content.decode()
    assert "Civic Voices" in html and "Seoul Partners" not in html
    html = staff_client.get(BOOK, {"country": "FR"}).content.decode()
    assert "Paris Partners" in html and "Civic Voices" not in html


def test_a_bad_filter_is_no_500(staff_client, book):
    response = staff_client.get(BOOK, {"signed": "x²", "country": "<script>", "kind": "nope", "p": "-1"})
    assert response.status_code == 200


def test_invite_to_letter_skips_suppressed_and_already_invited(
    staff_client, book, django_capture_on_commit_callbacks
):
    circulating = make_letter(slug="quiet", title="A quiet letter", status=Letter.Status.CIRCULATING)
    Suppression.add("P@pp.example")
    ids = [book["consented"].pk, book["partner"].pk, book["french"].pk]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(BOOK, {"letter": circulating.pk, "ids": ids}, follow=True)
        again = staff_client.post(BOOK, {"letter": circulating.pk, "ids": ids}, follow=True)
    html = response.content.decode()
    assert "2 invitation(s) to “A quiet letter” on their way." in html
    assert "1 asked for no more invitations: skipped." in html
    assert "2 already invited to this letter" in again.content.decode()
    assert sorted(m.to[0] for m in mail.outbox) == ["hello@sp.example", "kim@cv.example"]
    assert "2 invited: 0 signed, 0 declined, 2 no answer yet" in html


def test_a_moderator_sees_addresses_as_domains_and_cannot_invite(moderator_client, moderator, book):
    moderator.user_permissions.add(Permission.objects.get(codename="view_invitation"))
    html = moderator_client.get(BOOK).content.decode()
    assert "…@cv.example" in html and "kim@cv.example" not in html
    assert "Invite to letter" not in html
    assert moderator_client.post(BOOK, {"letter": 1, "ids": [book["partner"].pk]}).status_code == 403


def test_remind_those_who_have_not_answered(staff_client, django_capture_on_commit_callbacks):
    letter = make_letter(status=Letter.Status.CIRCULATING)
    ana = make_individual("Ana", email="ana@example.org")
    old = timezone.now() - dt.timedelta(days=4)
    waiting = Invitation.objects.create(letter=letter, individual=ana, email=ana.email, sent_at=old)
    recent = make_individual("Bo", email="bo@example.org")
    Invitation.objects.create(letter=letter, individual=recent, email=recent.email, sent_at=timezone.now())
    data = {"action": "remind", "_selected_action": list(Invitation.objects.values_list("pk", flat=True))}
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/admin/letters/invitation/", data, follow=True)
    assert "1 reminder(s) on their way." in response.content.decode()
    assert [m.to for m in mail.outbox] == [["ana@example.org"]]
    waiting.refresh_from_db()
    assert waiting.reminded_at is not None


def test_the_invitation_list_says_what_became_of_each(staff_client, letter, django_assert_max_num_queries):
    ana, bo = make_individual("Ana", email="ana@example.org"), make_individual("Bo", email="bo@example.org")
    signature = signature_row(letter, ana)
    Invitation.objects.create(letter=letter, individual=ana, email=ana.email, signature=signature)
    Invitation.objects.create(letter=letter, individual=bo, email=bo.email, declined_at=timezone.now())
    for n in range(20):
        person = make_individual(f"P{n}", email=f"p{n}@example.org")
        Invitation.objects.create(letter=letter, individual=person, email=person.email)
    with django_assert_max_num_queries(15):
        html = staff_client.get(
            "/admin/letters/invitation/", {"letter__id__exact": letter.pk}
        ).content.decode()
    assert "22 invited: 1 signed, 1 declined, 20 no answer yet" in html
    assert "waiting to be sent" in html and "declined" in html


def test_the_dashboard_counts_a_circulating_letters_invitations(staff_client):
    letter = make_letter(title="A quiet letter", status=Letter.Status.CIRCULATING)
    ana = make_individual("Ana", email="ana@example.org")
    Invitation.objects.create(letter=letter, individual=ana, email=ana.email)
    html = staff_client.get("/admin/").content.decode()
    assert "Invitations: 1 invited, 0 signed, 0 declined, 1 no answer yet" in html


def test_a_signature_made_through_an_invitation_is_marked(letter):
    ana = make_individual("Ana", email="ana@example.org")
    invitation = Invitation.objects.create(letter=letter, individual=ana, email=ana.email)
    signature = invitation_sign(invitation=invitation, name="Ana", public_consent=True)
    assert signature.invitations.get() == invitation
    assert signature.status in (Signature.Status.CONFIRMED, Signature.Status.APPROVED)


def test_the_address_book_reads_the_same_queries_for_any_number(
    staff_client, letter, django_assert_num_queries
):
    def consenting(n: int) -> None:
        org = make_organization(f"Partner {n}")
        signature_row(letter, org, contact_consent=True, contact_email=f"p{n}@example.org")

    consenting(0)
    staff_client.get(BOOK)  # the session, once
    with CaptureQueriesContext(connection) as one:
        staff_client.get(BOOK)
    for n in range(1, 30):
        consenting(n)
    with django_assert_num_queries(len(one)):
        html = staff_client.get(BOOK).content.decode()
    assert "p29@example.org" in html

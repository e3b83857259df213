"""The staff panel's first page: a dashboard of letters, named Undersigned."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from letters.models import Letter, Signature
from letters.outputs.deliveries import delivery_record
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db


def fill(letter: Letter) -> None:
    now = timezone.now()
    signature_row(letter, make_individual(), status=Signature.Status.PENDING, submitted_at=now)
    for _ in range(2):
        signature_row(letter, make_organization(), status=Signature.Status.CONFIRMED, submitted_at=now)
    for _ in range(3):
        signature_row(letter, make_individual(), submitted_at=now - dt.timedelta(days=30))


def test_it_is_named_undersigned(staff_client):
    html = staff_client.get("/admin/").content.decode()

    assert "Django administration" not in html
    assert '<div id="site-name"><a href="/admin/">Undersigned</a></div>' in html
    assert "<title>Letters | Undersigned</title>" in html


def test_it_shows_each_open_letter_with_counts_linking_into_the_queue(staff_client, letter):
    fill(letter)

    response = staff_client.get("/admin/")

    html = response.content.decode()
    card = html[html.index(f'id="letter-{letter.slug}"') :]
    # Awaiting approval comes first, and each count opens that part of the queue.
    assert card.index("awaiting approval") < card.index("unconfirmed e-mail") < card.index("approved")
    assert (
        f'href="/admin/letters/signature/?letter={letter.pk}&amp;queue=awaiting"><strong>2</strong>' in card
    )
    assert (
        f'href="/admin/letters/signature/?letter={letter.pk}&amp;queue=approved"><strong>3</strong>' in card
    )
    assert "<strong>3</strong> today, <strong>3</strong> this week" in card
    for url in ("/letters/civic-space/", "/print/", "/letter.pdf", "/signatories.csv"):
        assert url in card
    assert f"/admin/letters/signature/import/?letter={letter.pk}" in card
    assert "Not delivered yet" in card


def test_it_lists_open_letters_before_closed_ones_and_shows_the_last_delivery(staff_client, staff, letter):
    closed = make_letter(title="An old letter", status=Letter.Status.CLOSED, timezone="Asia/Seoul")
    signature_row(closed, make_individual())
    delivery_record(letter=closed, as_of=dt.date(2023, 9, 21), recipient="The Minister", note="", user=staff)

    html = staff_client.get("/admin/").content.decode()

    assert html.index("Open letters") < html.index(letter.title) < html.index("Closed letters")
    assert html.index("Closed letters") < html.index("An old letter")
    assert "Last delivery: " in html and "list as of 21 Sep 2023, to The Minister" in html
    assert " KST)" in html  # recorded at, in the letter's zone


def test_its_queries_do_not_grow_with_the_letters(staff_client, letter, django_assert_num_queries, staff):
    fill(letter)
    staff_client.get("/admin/")  # the session, once
    with CaptureQueriesContext(connection) as one:
        staff_client.get("/admin/")
    for n in range(4):
        other = make_letter(status=[Letter.Status.OPEN, Letter.Status.CLOSED][n % 2])
        fill(other)
        delivery_record(letter=other, as_of=dt.date(2023, 9, 21), recipient="x", note="", user=staff)

    with django_assert_num_queries(len(one)):
        response = staff_client.get("/admin/")
    assert len(response.context["dashboard"]["open"]) == 3
    # Session, user; letters, their week's activity, their deliveries; the digest switch; mail health;
    # the open disputes; recent actions.
    assert len(one) == 9


def test_a_moderator_sees_the_dashboard_without_the_import(moderator_client, letter):
    fill(letter)

    html = moderator_client.get("/admin/").content.decode()

    assert f'id="letter-{letter.slug}"' in html
    assert "/admin/letters/signature/import/" not in html


def test_a_letter_closed_before_its_closing_day_says_when_it_closed(staff_client):
    planned = timezone.now() + dt.timedelta(days=30)
    letter = make_letter(title="Closed early", closes_at=planned, timezone="UTC")
    letter.status = Letter.Status.CLOSED
    letter.save()

    html = staff_client.get("/admin/").content.decode()

    card = html[html.index('id="letter-' + letter.slug) :]
    assert f"Closed {planned:%d %b %Y}".replace("Closed 0", "Closed ") not in card
    assert f"Closed {timezone.now():%d %b %Y}".replace("Closed 0", "Closed ") in card


def test_a_letter_past_its_closing_moment_is_among_the_closed(staff_client):
    make_letter(slug="past", title="Past its day", closes_at=dt.datetime(2023, 9, 21, 12, tzinfo=dt.UTC))

    html = staff_client.get("/admin/").content.decode()

    assert "No letter is open for signatures." in html
    assert html.index('id="letter-past"') > html.index("Closed letters")
    card = html[html.index('id="letter-past"') :]
    card = card[: card.index("</section>")]
    assert "Closed 21 Sep 2023" in card
    assert "Closes " not in card

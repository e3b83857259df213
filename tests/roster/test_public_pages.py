"""What a visitor sees around the lists: counts and closing days, a past day said so, a bad date answered."""

import datetime as dt

import pytest

from letters.models import Letter, Signature
from tests.factories import make_individual, make_letter, signature_row

pytestmark = pytest.mark.django_db


def test_the_index_shows_each_letters_count_and_closing_day(client, django_assert_num_queries):
    # 23:30 UTC on 30 November is already 1 December in Zurich.
    open_letter = make_letter(
        title="Open one", timezone="Europe/Zurich", closes_at=dt.datetime(2099, 11, 30, 23, 30, tzinfo=dt.UTC)
    )
    for _ in range(3):
        signature_row(open_letter, make_individual())
    signature_row(open_letter, make_individual(), withdrawn_at=dt.datetime(2023, 9, 2, tzinfo=dt.UTC))
    signature_row(open_letter, make_individual(), status=Signature.Status.CONFIRMED)
    closed = make_letter(
        title="Closed one", status=Letter.Status.CLOSED, closes_at=dt.datetime(2023, 10, 1, 12, tzinfo=dt.UTC)
    )
    signature_row(closed, make_individual())

    with django_assert_num_queries(3):  # the letters, their translations, then their counts
        html = client.get("/").content.decode()

    assert "3 signatories · open until 1 December 2099" in html
    assert "1 signatory · closed on 1 October 2023" in html


def test_a_letter_closed_before_its_closing_day_does_not_say_it_closed_then(client):
    make_letter(status=Letter.Status.CLOSED, closes_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
    html = client.get("/").content.decode()
    assert "2099" not in html


def test_a_past_days_list_says_so_at_the_top_with_a_link_to_today(client, letter):
    signature_row(letter, make_individual())

    past = client.get("/letters/civic-space/?as_of=2023-09-21").content.decode()
    today = client.get("/letters/civic-space/").content.decode()

    banner = past[past.index('id="as-of-banner"') :]
    assert "as it stood at the end of 21 September 2023" in banner[:300]
    assert '<a href="/letters/civic-space/">' in banner[:400]
    assert past.index('id="as-of-banner"') < past.index("<h1")
    assert 'id="as-of-banner"' not in today


def test_the_bad_date_page_keeps_the_date_picker(client, letter):
    response = client.get("/letters/civic-space/?as_of=21/09/2023")

    assert response.status_code == 400
    html = response.content.decode()
    assert "is not a date" in html
    assert '<input type="date" id="as-of" name="as_of"' in html
    assert 'action="/letters/civic-space/"' in html


def test_a_letter_past_its_closing_moment_is_listed_as_closed(client, db):
    # Still "open" in the database: nobody closed it by hand; its closing moment passed.
    make_letter(title="Past its day", closes_at=dt.datetime(2023, 9, 21, 12, tzinfo=dt.UTC))

    html = client.get("/").content.decode()

    assert "open until" not in html
    assert "closed on 21 September 2023" in html
    assert html.index("Past its day") > html.index('id="closed-heading"')
    assert 'id="open-heading"' not in html


def test_every_page_names_its_icon_so_browsers_ask_for_no_missing_favicon(client, staff_client, letter):
    from django.contrib.staticfiles import finders

    assert finders.find("favicon.svg")
    for url in ("/", "/letters/civic-space/", "/letters/civic-space/sign/", "/letters/civic-space/print/"):
        html = client.get(url).content.decode()
        assert '<link rel="icon" href="/static/favicon.svg' in html, url
    assert '<link rel="icon" href="/static/favicon.svg' in staff_client.get("/admin/").content.decode()

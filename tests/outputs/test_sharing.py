"""Sharing a letter: Open Graph and Twitter card tags, plain share links, and the embeddable box."""

import datetime as dt

import pytest

from letters.models import Letter
from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db

EMBED = "/letters/civic-space/embed/"


def test_the_letter_page_carries_open_graph_and_twitter_card_tags(client, letter, settings):
    settings.SITE_URL = "https://letters.example.org"
    html = client.get("/letters/civic-space/").content.decode()
    assert '<meta property="og:title" content="Protect civic space">' in html
    assert '<meta property="og:description" content="Re: The matter at hand">' in html
    assert '<meta property="og:url" content="https://letters.example.org/letters/civic-space/">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert '<meta name="twitter:title" content="Protect civic space">' in html


def test_the_share_section_is_plain_links_without_scripts(client, letter, settings):
    settings.SITE_URL = "https://letters.example.org"
    html = client.get("/letters/civic-space/").content.decode()
    share = html[html.index('class="share"') :]
    assert "mailto:?subject=Protect%20civic%20space" in share
    assert (
        "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fletters.example.org%2Fletters%2Fcivic-space%2F"
        in share
    )
    assert "/letters/civic-space/embed/" in share
    assert "<script" not in html


def test_the_embed_shows_the_count_the_five_latest_names_and_a_link_to_sign(client, letter):
    for n in range(7):
        signature_row(
            letter, make_individual(f"Person {n}"), signed_at=dt.datetime(2023, 9, 1, 10 + n, tzinfo=dt.UTC)
        )
    signature_row(
        letter,
        make_organization("Amnesty Example", acronym="AE"),
        signed_at=dt.datetime(2023, 9, 2, tzinfo=dt.UTC),
    )
    response = client.get(EMBED)
    html = response.content.decode()
    assert "8 signatories" in html
    for name in ["Amnesty Example (AE)", "Person 6", "Person 5", "Person 4", "Person 3"]:
        assert name in html
    assert "Person 2" not in html
    assert "/letters/civic-space/sign/" in html
    assert "<script" not in html


def test_the_embed_has_no_sign_link_once_the_letter_is_closed(client, letter):
    letter.status = Letter.Status.CLOSED
    letter.save()
    assert "/sign/" not in client.get(EMBED).content.decode()


def test_any_site_may_frame_the_embed_and_no_other_page(client, letter):
    embed = client.get(EMBED)
    assert "X-Frame-Options" not in embed.headers
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    for url in ["/letters/civic-space/", "/letters/civic-space/print/", "/letters/civic-space/sign/", "/"]:
        response = client.get(url)
        assert response.headers["X-Frame-Options"] == "DENY", url
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], url


def test_pending_names_never_reach_the_embed(client, letter):
    signature_row(letter, make_individual("Hidden Pending"), status="pending")
    assert "Hidden Pending" not in client.get(EMBED).content.decode()
    assert "0 signatories" in client.get(EMBED).content.decode()

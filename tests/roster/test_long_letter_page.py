"""
A letter page a person can read however long the list: organizations in full,
individuals a page at a time or by search; every export still carries every name.
"""

import pytest

from letters.rosters import RosterPage
from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db

URL = "/letters/civic-space/"


@pytest.fixture
def long_letter(letter, monkeypatch):
    monkeypatch.setattr(RosterPage, "PER_PAGE", 3)
    for name in ["Ana Alves", "Bo Berg", "Cy Cruz", "Di Diaz", "Ed Eng", "Flo Fang", "Gus Gómez"]:
        signature_row(letter, make_individual(name))
    for n in range(5):
        signature_row(letter, make_organization(f"Organization {n}"))
    return letter


def test_the_first_page_shows_every_organization_and_the_first_individuals(client, long_letter):
    html = client.get(URL).content.decode()
    assert "7 individuals and 5 organizations" in html
    for name in ["Ana Alves", "Bo Berg", "Cy Cruz", *[f"Organization {n}" for n in range(5)]]:
        assert name in html
    assert "Di Diaz" not in html
    assert "page 1 of 3" in html
    assert 'href="?page=2#roster-heading"' in html


def test_later_pages_carry_the_next_individuals_in_order(client, long_letter):
    html = client.get(f"{URL}?page=3").content.decode()
    assert "Gus Gómez" in html
    assert "Ana Alves" not in html
    assert "Organization 4" in html


@pytest.mark.parametrize("page", ["0", "4", "x", "-1", "1e3", "²", "%C2%B2", "9" * 5000, "1%00"])
def test_a_page_that_does_not_exist_is_a_400(client, long_letter, page):
    response = client.get(f"{URL}?page={page}")
    assert response.status_code == 400
    assert "There is no page" in response.content.decode()


def test_a_search_finds_names_whatever_their_accents_and_case(client, long_letter):
    response = client.get(f"{URL}?q=GOMEZ")
    html = response.content.decode()
    assert "Gus Gómez" in html
    assert "Ana Alves" not in html
    assert "1 name matches" in html
    assert "ETag" not in response.headers  # any words: answered, never stored


def test_every_export_carries_the_whole_list(client, long_letter):
    for url in [f"{URL}print/", f"{URL}signatories.json"]:
        assert "Gus Gómez" in client.get(url).content.decode(), url
    assert "Gus Gómez" in b"".join(client.get(f"{URL}signatories.csv").streaming_content).decode()


def test_a_short_list_has_no_pages(client, letter):
    signature_row(letter, make_individual("Ana Alves"))
    html = client.get(URL).content.decode()
    assert "Ana Alves" in html
    assert "page 1 of" not in html

"""
Signers who cannot be named: counted at the end of their section on every
list, never named (docs/design.md, "Signers who cannot be named").
"""

import datetime as dt
import io
import json

import pytest
from django.utils import translation
from docx import Document

from letters.models import Signature
from letters.rosters import Roster, RosterPage
from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db

DAY = dt.date(2023, 9, 21)
SIGNED = dt.datetime(2023, 9, 20, 12, tzinfo=dt.UTC)


@pytest.fixture
def listed(letter):
    signature_row(letter, make_individual("Named Person"), signed_at=SIGNED)
    signature_row(
        letter, make_individual("Hidden Person", title="Hidden title"), signed_at=SIGNED, unnamed=True
    )
    signature_row(letter, make_organization("Named Org"), signed_at=SIGNED)
    for n in range(12):
        signature_row(letter, make_organization(f"Hidden Org {n}"), signed_at=SIGNED, unnamed=True)
    return letter


def test_the_roster_lists_the_named_and_counts_everyone(listed):
    roster = Roster(listed, DAY)
    assert [entry.name for entry in roster.entries()] == ["Named Person", "Named Org"]
    assert roster.counts == {
        "individuals": 2,
        "organizations": 13,
        "unnamed_individuals": 1,
        "unnamed_organizations": 12,
        "total": 15,
    }
    assert roster.counts_text == "2 individuals and 13 organizations"


def test_each_section_ends_with_its_unnamed_count_in_plural_or_singular(listed):
    texts = [section.unnamed_text for section in Roster(listed, DAY).printed_sections]
    assert texts == [
        "and 1 other individual who cannot be named for their safety",
        "and 12 other organizations that cannot be named for their safety",
    ]


def test_a_section_of_unnamed_signers_only_says_how_many(letter):
    signature_row(letter, make_organization("Hidden Org"), signed_at=SIGNED, unnamed=True)
    signature_row(letter, make_organization("Hidden Org 2"), signed_at=SIGNED, unnamed=True)
    sections = Roster(letter, DAY).printed_sections
    assert [(section.type, section.entries, section.unnamed_text) for section in sections] == [
        ("organization", [], "2 organizations that cannot be named for their safety")
    ]
    assert not Roster(letter, DAY).is_empty


def test_the_unnamed_count_is_in_the_page_language(listed):
    with translation.override("fr"):
        texts = [section.unnamed_text for section in Roster(listed, DAY).printed_sections]
    assert "safety" not in " ".join(texts)
    assert "12" in texts[1]


def test_the_as_of_rule_applies_to_the_unnamed(letter):
    signature_row(
        letter, make_individual("Hidden Later"), signed_at=SIGNED + dt.timedelta(days=2), unnamed=True
    )
    assert Roster(letter, DAY).counts["unnamed_individuals"] == 0
    assert Roster(letter, DAY + dt.timedelta(days=2)).counts["unnamed_individuals"] == 1


def test_pending_unnamed_signatures_are_not_counted(letter):
    signature_row(letter, make_individual("Hidden Pending"), status=Signature.Status.CONFIRMED, unnamed=True)
    assert Roster(letter).counts["total"] == 0


def test_the_letter_page_counts_them_and_names_nobody(client, listed):
    html = client.get("/letters/civic-space/?as_of=2023-09-21").content.decode()
    assert "Named Person" in html and "Named Org" in html
    assert "Hidden" not in html
    assert "and 12 other organizations that cannot be named for their safety" in html
    assert "and 1 other individual who cannot be named for their safety" in html


def test_the_letter_page_counts_with_one_query_for_all_counts(listed, django_assert_max_num_queries):
    page = RosterPage(listed, DAY)
    with django_assert_max_num_queries(1):
        assert page.counts["unnamed_organizations"] == 12
        assert page.unnamed_counts == {"individual": 1, "organization": 12}


def test_a_search_never_finds_them(client, listed):
    html = client.get("/letters/civic-space/?q=Hidden").content.decode()
    assert "Hidden" not in html.replace('value="Hidden"', "").replace("“Hidden”", "")
    assert "cannot be named" not in html


def test_the_print_version_counts_them(client, listed):
    html = client.get("/letters/civic-space/print/?as_of=2023-09-21").content.decode()
    assert "Hidden" not in html
    assert "and 12 other organizations that cannot be named for their safety" in html


def test_the_word_document_counts_them(client, listed):
    response = client.get("/letters/civic-space/letter.docx?as_of=2023-09-21")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = "\n".join(paragraph.text for paragraph in Document(io.BytesIO(body)).paragraphs)
    assert "Named Org" in text and "Hidden" not in text
    assert "and 12 other organizations that cannot be named for their safety" in text


def test_the_csv_lists_the_named_only(client, listed):
    response = client.get("/letters/civic-space/signatories.csv?as_of=2023-09-21")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Named Person" in text and "Named Org" in text
    assert "Hidden" not in text
    assert len(text.strip().splitlines()) == 3  # the header and two names


def test_the_json_counts_them_apart_and_in_the_total(client, listed):
    response = client.get("/letters/civic-space/signatories.json?as_of=2023-09-21")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    data = json.loads(body)
    assert data["counts"]["unnamed_individuals"] == 1
    assert data["counts"]["unnamed_organizations"] == 12
    assert data["counts"]["total"] == 15
    assert [row["name"] for row in data["signatories"]] == ["Named Person", "Named Org"]
    assert "Hidden" not in body.decode()


def test_the_embed_counts_them_and_shows_no_latest_name_of_theirs(client, listed):
    html = client.get("/letters/civic-space/embed/").content.decode()
    assert "15 signatories" in html
    assert "Named Org" in html and "Hidden" not in html

import re

import pytest

from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def roster_letter(letter):
    letter.body = "First claim.[^a] Second claim.[^b]\n\n[^a]: Note on the first.\n[^b]: Note on the second."
    letter.closing = "Yours faithfully,"
    letter.save()
    signature_row(
        letter, make_individual("Zoë Ferreira-Mbeki", title="Director, Centre for Constitutional Rights")
    )
    signature_row(letter, make_individual("Åsa Lindqvist", title="Member of the European Parliament"))
    signature_row(letter, make_organization("Asociación Pro Derechos Humanos", acronym="APDH"))
    signature_row(letter, make_organization("ACAT UK"))
    return letter


def test_it_prints_the_letter_then_the_roster_in_order(client, roster_letter):
    response = client.get("/letters/civic-space/print/?as_of=2023-09-21")
    assert response.status_code == 200
    html = response.content.decode()
    html = html[html.index("<body") :]
    order = [
        "Protect civic space",
        "Re: The matter at hand",
        "Dear Minister,",
        "First claim.",
        "Yours faithfully,",
        "Note on the first.",
        "Signatory organizations and individuals (as of 21 September 2023)",
        "2 individuals and 2 organizations",
        ">Individuals<",
        "Zoë Ferreira-Mbeki",  # sorted by family name: Ferreira-Mbeki before Lindqvist
        "Director, Centre for Constitutional Rights",
        "Åsa Lindqvist",
        "Member of the European Parliament",
        ">Organizations<",
        "ACAT UK",
        "Asociación Pro Derechos Humanos (APDH)",
    ]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions)


def test_footnotes_are_numbered_in_order_after_the_closing(client, roster_letter):
    html = client.get("/letters/civic-space/print/").content.decode()
    assert re.search(r'href="#fn:a"[^>]*>1</a>', html)
    assert re.search(r'href="#fn:b"[^>]*>2</a>', html)
    notes = html[html.index('class="letter-footnotes"') :]
    assert "<ol>" in notes
    assert notes.index("Note on the first.") < notes.index("Note on the second.")
    assert html.index("Yours faithfully,") < html.index("Note on the first.")


def test_it_has_no_navigation_and_no_form(client, roster_letter):
    html = client.get("/letters/civic-space/print/").content.decode()
    assert "<nav" not in html
    assert "<form" not in html
    assert "site-header" not in html
    assert "css/print.css" in html


def test_it_chooses_the_paper(client, roster_letter):
    assert 'class="paper-a4"' in client.get("/letters/civic-space/print/").content.decode()
    letter_html = client.get("/letters/civic-space/print/?paper=letter").content.decode()
    assert 'class="paper-letter"' in letter_html


def test_unknown_paper_is_a_400(client, roster_letter):
    response = client.get("/letters/civic-space/print/?paper=tabloid")
    assert response.status_code == 400
    assert "a4" in response.content.decode()


def test_malformed_as_of_is_a_400(client, roster_letter):
    response = client.get("/letters/civic-space/print/?as_of=21/09/2023")
    assert response.status_code == 400
    assert "is not a date" in response.content.decode()


def test_a_day_nobody_had_signed_says_so(client, roster_letter):
    html = client.get("/letters/civic-space/print/?as_of=2023-08-01").content.decode()
    assert "Nobody had signed this letter by the end of 1 August 2023" in html


def test_drafts_are_not_printed_for_the_public(client, db):
    make_letter(slug="secret", status="draft")
    assert client.get("/letters/secret/print/").status_code == 404


def test_notes_are_numbered_in_the_order_the_text_cites_them_not_the_order_they_are_written(client, letter):
    # Editors often write the notes in any order under the text; the reader sees 1, 2, 3 as they read.
    letter.body = (
        "Arrests rose.[^arrests] Funding fell.[^funding]\n\n[^funding]: On funding.\n[^arrests]: On arrests."
    )
    letter.save()
    html = client.get("/letters/civic-space/print/").content.decode()
    assert re.search(r'href="#fn:arrests"[^>]*>1</a>', html)
    assert re.search(r'href="#fn:funding"[^>]*>2</a>', html)
    notes = html[html.index('class="letter-footnotes"') :]
    assert notes.index("On arrests.") < notes.index("On funding.")


def test_korean_is_kept_whole_between_words_in_print(client):
    from pathlib import Path

    from django.contrib.staticfiles import finders

    css = Path(finders.find("css/print.css")).read_text(encoding="utf-8")
    assert ":lang(ko) { word-break: keep-all; }" in css

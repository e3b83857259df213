"""
Every output after a letter's text changed (issue #26): the mark "signed an
earlier version" on the page, print and PDF (both engines), the `text_version`
of the CSV and JSON, the versions page, deliveries, and ETags that follow.
"""

import csv
import hashlib
import io
import subprocess
import unicodedata

import pytest

from letters import lifecycle
from letters.models import Letter, Signature
from letters.outputs import pdf as exports
from letters.outputs.deliveries import delivery_record
from letters.rosters import Roster
from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db

NEW_BODY = "We urge the government to withdraw the draft law on associations at once."
MARK = "signed an earlier version (version 1)"


@pytest.fixture
def changed(letter):
    """Anna signed version 1; the text changed in meaning (version 2); Ben signed it."""
    signature_row(letter, make_individual("Anna Early", title="Professor"))
    signature_row(letter, make_organization("Front Line Defenders", acronym="FLD"))
    lifecycle.letter_text_change(
        letter=letter, user=None, material=True, note="Sharper demand.", body=NEW_BODY
    )
    letter = Letter.objects.get(pk=letter.pk)
    ben = signature_row(letter, make_individual("Ben Later"))
    Signature.objects.filter(pk=ben.pk).update(text_version=2)
    Signature.objects.filter(organization__name="Front Line Defenders").update(text_version=2)
    return Letter.objects.get(pk=letter.pk)


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True)
    return unicodedata.normalize("NFC", " ".join(text.stdout.split()))


def test_the_page_marks_the_earlier_signer_with_a_link_to_their_version(client, changed):
    html = client.get("/letters/civic-space/").content.decode()
    assert MARK in html
    assert 'href="/letters/civic-space/versions/#v1"' in html
    assert html.count("entry-mark") == 1  # Ben and the organization signed the current text
    assert "This is version 2 of the text" in html


def test_the_print_page_marks_them_too(client, changed):
    html = client.get("/letters/civic-space/print/").content.decode()
    assert MARK in html and "Ben Later" in html


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["typst", "weasyprint"])
def test_the_pdf_marks_them_with_either_engine(changed, settings, tmp_path, engine):
    settings.PDF_ENGINE = engine
    text = pdf_text(exports.render_pdf(Roster(changed), "a4"), tmp_path)
    assert "Anna Early" in text and MARK in text
    assert text.count("signed an earlier version") == 1


def test_the_word_document_marks_them_too(client, changed):
    # Word printed the earlier signer with no mark: the one output of the list
    # a recipient edits into their own files said nothing of the version signed.
    import docx

    response = client.get("/letters/civic-space/letter.docx")
    paragraphs = [p.text for p in docx.Document(io.BytesIO(response.content)).paragraphs]
    [anna] = [text for text in paragraphs if text.startswith("Anna Early")]
    assert anna.splitlines() == ["Anna Early", "Professor", MARK]
    [ben] = [text for text in paragraphs if text.startswith("Ben Later")]
    assert "earlier version" not in ben
    assert sum("signed an earlier version" in text for text in paragraphs) == 1


def test_a_letter_with_one_version_keeps_its_six_csv_columns(client, letter):
    signature_row(letter, make_individual("Anna Early"))
    rows = read_csv(client.get("/letters/civic-space/signatories.csv"))
    assert rows[0] == ["type", "name", "title", "acronym", "country", "signed_on"]
    assert "text_version" not in client.get("/letters/civic-space/signatories.json").json()["signatories"][0]


def test_the_csv_gains_a_text_version_column_once_there_are_two(client, changed):
    rows = read_csv(client.get("/letters/civic-space/signatories.csv"))
    assert rows[0][-1] == "text_version"
    versions = {row[1]: row[-1] for row in rows[1:]}
    assert versions == {"Anna Early": "1", "Ben Later": "2", "Front Line Defenders": "2"}


def test_the_json_gives_each_entry_its_text_version_and_mark(client, changed):
    entries = {
        e["name"]: e for e in client.get("/letters/civic-space/signatories.json").json()["signatories"]
    }
    assert entries["Anna Early"]["text_version"] == 1 and entries["Anna Early"]["earlier_version"] == 1
    assert entries["Ben Later"]["text_version"] == 2 and entries["Ben Later"]["earlier_version"] is None


def test_a_past_day_before_the_change_shows_no_mark(client, changed):
    html = client.get("/letters/civic-space/?as_of=2023-09-02").content.decode()
    assert "Anna Early" in html and "signed an earlier version" not in html


def test_the_versions_page_lists_every_version_with_its_note_and_diff(client, changed):
    html = client.get("/letters/civic-space/versions/").content.decode()
    assert 'id="v1"' in html and 'id="v2"' in html
    assert "Sharper demand." in html
    assert "<ins>" in html and "<del>" in html
    assert html.index('id="v2"') < html.index('id="v1"')  # the current text first


def test_the_versions_page_of_a_draft_is_a_404(client, changed):
    Letter.objects.filter(pk=changed.pk).update(status=Letter.Status.DRAFT)
    assert client.get("/letters/civic-space/versions/").status_code == 404


def test_the_versions_page_of_a_circulating_letter_opens_with_its_key(client, changed):
    Letter.objects.filter(pk=changed.pk).update(status=Letter.Status.CIRCULATING)
    assert client.get("/letters/civic-space/versions/").status_code == 404
    response = client.get(f"/letters/civic-space/versions/?key={changed.private_key}")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_a_text_change_changes_the_page_pdf_and_their_etags(client, letter):
    signature_row(letter, make_individual("Anna Early"))
    before = {
        url: client.get(url)["ETag"] for url in ("/letters/civic-space/", "/letters/civic-space/print/")
    }
    lifecycle.letter_text_change(letter=letter, user=None, material=False, note="Typo.", body=NEW_BODY)
    for url, etag in before.items():
        response = client.get(url, headers={"if-none-match": etag})
        assert response.status_code == 200
        assert NEW_BODY in response.content.decode()


def test_a_delivery_records_the_version_and_the_sha256_of_its_text(changed, settings):
    settings.PDF_ENGINE = "typst"
    delivery = delivery_record(letter=changed, as_of=changed.today(), recipient="The Minister")
    words = "\n".join(getattr(changed, f) for f in ("title", "subject", "salutation", "body", "closing"))
    assert delivery.text_version == 2
    assert delivery.text_sha256 == hashlib.sha256(words.encode()).hexdigest()
    marked = {entry["name"]: entry["earlier_version"] for entry in delivery.entries}
    assert marked == {"Anna Early": 1, "Ben Later": None, "Front Line Defenders": None}


def test_a_translation_of_an_earlier_version_says_so(client, changed):
    translation = changed.translations.create(language="fr", status="ready", title="T", body="Texte.")
    assert not translation.is_outdated
    lifecycle.letter_text_change(
        letter=changed, user=None, material=False, note="Typo.", body=NEW_BODY + " !"
    )
    html = client.get("/letters/civic-space/?lang=fr").content.decode()
    assert "outdated-translation" in html
    translation.refresh_from_db()
    assert translation.is_outdated
    translation.body = "Texte nouveau."
    translation.save()
    assert "outdated-translation" not in client.get("/letters/civic-space/?lang=fr").content.decode()

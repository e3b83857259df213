import datetime as dt
import io
import subprocess
import unicodedata
from unittest import mock

import pytest
from django.core.management import call_command
from django.templatetags.static import static
from pypdf import PdfReader

from letters.outputs import pdf as exports
from letters.rosters import Roster
from tests.factories import make_individual, make_organization, sign_in_several_scripts, signature_row

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u200e\u200f"))


@pytest.fixture
def signed(letter):
    sign_in_several_scripts(letter)
    signature_row(letter, make_individual("陈伟玲", sort_name="陈伟玲"))
    signature_row(letter, make_organization("ACAT - Belgique"))
    signature_row(letter, make_organization("東京人権ネットワーク"))
    return letter


def pdf_text(pdf: bytes, tmp_path, *, raw: bool = False) -> str:
    """
    The PDF's text. `raw` keeps the order it was drawn in (the document order,
    column by column) but gives right-to-left words in visual order.
    """
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    command = ["pdftotext", *(["-raw"] if raw else []), str(path), "-"]
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return unicodedata.normalize("NFC", text.translate(BIDI_CONTROLS))


def test_it_is_a_pdf_holding_every_name_in_roster_order(client, signed, tmp_path):
    response = client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content, tmp_path, raw=True)
    names = [entry.name for entry in Roster(signed, dt.date(2023, 9, 21)).entries()]
    assert len(names) == 8
    arabic = "فاطمة الزهراء العلوي"
    names[names.index(arabic)] = " ".join(reversed(arabic.split()))  # drawn right to left
    positions = [text.index(name) for name in names]
    assert positions == sorted(positions)
    assert text.index("Dear Minister,") < text.index(
        "Signatory organizations and individuals (as of 21 September 2023)"
    )
    assert "Asociación Pro Derechos Humanos (APDH)" in text


def test_korean_chinese_japanese_and_arabic_names_are_drawn_with_fonts_that_have_them(signed, tmp_path):
    pdf = exports.render_pdf(Roster(signed), "a4")
    text = pdf_text(pdf, tmp_path)
    for name in ["이양희", "성균관대학교 교수", "فاطمة الزهراء العلوي", "陈伟玲", "東京人権ネットワーク"]:
        assert name in text
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "letter.pdf")], capture_output=True, text=True, check=True
    ).stdout
    assert "CJK" in fonts
    assert "Arabic" in fonts


def test_it_carries_the_title_and_date_in_its_metadata_and_file_name(client, signed):
    response = client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21")
    assert response["Content-Disposition"] == 'inline; filename="civic-space-as-of-2023-09-21.pdf"'
    metadata = PdfReader(io.BytesIO(response.content)).metadata
    assert metadata.title == "Protect civic space"
    assert metadata.creation_date.date() == dt.date(2023, 9, 21)


def test_it_prints_on_a4_by_default_and_on_us_letter_when_asked(client, signed):
    a4 = PdfReader(io.BytesIO(client.get("/letters/civic-space/letter.pdf").content))
    assert (round(float(a4.pages[0].mediabox.width)), round(float(a4.pages[0].mediabox.height))) == (595, 842)
    us = PdfReader(io.BytesIO(client.get("/letters/civic-space/letter.pdf?paper=letter").content))
    assert (round(float(us.pages[0].mediabox.width)), round(float(us.pages[0].mediabox.height))) == (612, 792)


def test_pages_are_numbered(signed, tmp_path):
    text = pdf_text(exports.render_pdf(Roster(signed), "a4"), tmp_path)
    assert "1/2" in text.replace(" ", "") and "2/2" in text.replace(" ", "")


@pytest.fixture
def renders(monkeypatch):
    calls = []
    original = exports.render_pdf

    def counting(roster, paper, versions=None):
        calls.append((roster.as_of, paper))
        return original(roster, paper, versions)

    monkeypatch.setattr(exports, "render_pdf", counting)
    return calls


def test_a_second_download_is_served_from_the_cache(client, signed, renders):
    first = client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21")
    second = client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21")
    assert first.content == second.content
    assert len(renders) == 1
    client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21&paper=letter")
    client.get("/letters/civic-space/letter.pdf?as_of=2023-09-20")
    assert len(renders) == 3  # each paper and each day has its own PDF


def test_any_change_to_the_roster_renders_a_new_pdf(client, signed, renders, tmp_path):
    client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21")
    person = signed.signatures.get(individual__name="Tomás Ojea-Quintana").individual
    person.title = "Former Special Rapporteur on Veltrana"
    person.save()
    response = client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21")
    assert len(renders) == 2
    assert "Former Special Rapporteur on Veltrana" in pdf_text(response.content, tmp_path)
    signed.signatures.filter(individual__name="이양희").update(
        withdrawn_at=dt.datetime(2023, 9, 10, tzinfo=dt.UTC), updated_at=dt.datetime.now(dt.UTC)
    )
    response = client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21")
    assert len(renders) == 3
    assert "이양희" not in pdf_text(response.content, tmp_path)


def test_a_repeated_request_is_a_304(client, signed):
    etag = client.get("/letters/civic-space/letter.pdf")["ETag"]
    assert client.get("/letters/civic-space/letter.pdf", headers={"if-none-match": etag}).status_code == 304


def test_bad_dates_and_papers_are_plain_400s(client, signed):
    assert client.get("/letters/civic-space/letter.pdf?as_of=2023-02-30").status_code == 400
    response = client.get("/letters/civic-space/letter.pdf?paper=a3")
    assert response.status_code == 400
    assert "letter" in response.content.decode()


def test_the_renderer_fetches_our_stylesheet_and_nothing_from_outside():
    fetcher = exports.StaticOnlyFetcher()
    css = fetcher.fetch(exports.PDF_BASE_URL + "static/css/print.css")
    assert b"@page" in css.read()
    for url in ["https://example.org/tracker.css", "file:///etc/passwd", exports.PDF_BASE_URL + "admin/"]:
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_no_entry_is_split_across_two_pages(letter, tmp_path):
    for n in range(90):
        signature_row(
            letter,
            make_individual(f"Signer Number{n:03}", title=f"Title line of signer {n:03}, a long affiliation"),
        )
    path = tmp_path / "long.pdf"
    path.write_bytes(exports.render_pdf(Roster(letter), "a4"))
    pages = len(PdfReader(path).pages)
    assert pages >= 3
    seen = 0
    for page in range(1, pages + 1):
        text = subprocess.run(
            ["pdftotext", "-raw", "-f", str(page), "-l", str(page), str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for n in range(90):
            if f"Signer Number{n:03}" in text:
                seen += 1
                assert f"signer {n:03}, a long" in text  # the title came with its name
    assert seen == 90


def test_a_long_list_is_rendered_by_a_worker_once_while_visitors_wait(client, signed, monkeypatch, renders):
    monkeypatch.setattr(exports, "PDF_INLINE_MAX_ENTRIES", 5)
    queued = []

    class Worker:
        def enqueue(self, **kwargs):
            queued.append(kwargs)

    monkeypatch.setattr(exports, "render_pdf_later", Worker())
    first = client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21")
    second = client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21")
    assert (first.status_code, second.status_code) == (503, 503)
    assert first["Retry-After"] == "15"
    assert '<meta http-equiv="refresh"' in first.content.decode()
    assert "being prepared" in first.content.decode()
    assert queued == [{"letter_id": signed.pk, "as_of": "2023-09-21", "paper": "a4", "language": "en-gb"}]
    assert renders == []


def test_the_worker_task_fills_the_cache_the_download_reads(client, signed, monkeypatch, renders):
    monkeypatch.setattr(exports, "PDF_INLINE_MAX_ENTRIES", 5)
    # The test settings run tasks at once, as a worker would later.
    response = client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    assert len(renders) == 1


def test_the_renderer_finds_the_stylesheet_under_its_hashed_production_name(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    hashed = static("css/print.css")
    assert hashed != "/static/css/print.css"
    css = exports.StaticOnlyFetcher().fetch(exports.PDF_BASE_URL.rstrip("/") + hashed)
    assert b"@page" in css.read()


@pytest.fixture
def pdf_cache_down():
    """The PDF cache's server is gone: every call raises what redis-py raises then."""
    from django.core.cache import caches
    from redis.exceptions import ConnectionError as RedisConnectionError

    error = RedisConnectionError("Error 111 connecting to redis:6379. Connection refused.")
    pdfs = caches["pdfs"]
    with (
        mock.patch.object(pdfs, "get", side_effect=error),
        mock.patch.object(pdfs, "add", side_effect=error),
        mock.patch.object(pdfs, "set", side_effect=error),
    ):
        yield


def test_a_pdf_cache_outage_renders_the_pdf_within_the_request(client, signed, renders, pdf_cache_down):
    response = client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    assert len(renders) == 1


def test_a_pdf_cache_outage_asks_to_come_back_for_a_long_list(
    client, signed, monkeypatch, renders, pdf_cache_down
):
    # A worker's render could not be stored for the visitor to fetch: none is queued.
    monkeypatch.setattr(exports, "PDF_INLINE_MAX_ENTRIES", 5)
    queued = mock.Mock()
    monkeypatch.setattr(exports, "render_pdf_later", queued)
    response = client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert not queued.enqueue.called
    assert renders == []


def test_a_un_document_symbol_is_never_broken_at_its_slashes(client, letter, tmp_path):
    # "A/HRC/25/63" broke at its slash at the end of a line: "A/" on one line, "HRC/25/63" on the next.
    paragraphs = [f"{'word ' * n}see A/HRC/25/63 and E/CN.4/2005/L.10." for n in range(0, 40)]
    letter.body = "\n\n".join(paragraphs)
    letter.save()
    signature_row(letter, make_individual("Jane Doe"))

    response = client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21")

    text = pdf_text(response.content, tmp_path, raw=True)
    assert text.count("A/HRC/25/63") == len(paragraphs)
    assert text.count("E/CN.4/2005/L.10") == len(paragraphs)

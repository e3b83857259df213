"""
The PDF laid out by Typst (PDF_ENGINE = "typst", letters/outputs/typst.py):
whatever a signer or an organizer writes prints as written and runs nothing,
one state of the list gives the same bytes, and WeasyPrint stays one setting away.
"""

import contextlib
import datetime as dt
import io
import subprocess
import threading
import unicodedata
from unittest import mock

import pytest
from pypdf import PdfReader

from letters.models import Letter, Signature
from letters.outputs import pdf as exports
from letters.outputs import typst as typst_pdf
from letters.rosters import Roster
from signatories.models import Individual
from tests.factories import make_individual, make_organization, signature_row

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Typst markup and code: each would format, compute, read a file or fail the
# document if a name were written into the template rather than passed as data.
HOSTILE_NAMES = [
    '#panic("stop")',
    '#read("/etc/passwd")',
    "$x^2$ and $$",
    "*bold* _emph_ `raw` = heading",
    "[a] ] [ \\ \\u{41} @label <label>",
    '#let x = 1; #x #{"}"} /* comment',
    "// not a comment ~ -- --- ...",
]


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True)
    return unicodedata.normalize("NFC", text.stdout)


@pytest.fixture
def typst_engine(settings):
    settings.PDF_ENGINE = "typst"


def test_it_is_the_default_engine(settings):
    assert settings.PDF_ENGINE == "typst"


def test_names_and_titles_in_typst_markup_print_as_written_and_run_nothing(letter, tmp_path, typst_engine):
    for n, name in enumerate(HOSTILE_NAMES):
        signature_row(letter, make_individual(name, title=f"Title {n}: #sys.inputs {{}} $"))
    signature_row(letter, make_organization('#eval("1 + 1") Coalition', acronym="#C"))
    text = pdf_text(exports.render_pdf(Roster(letter), "a4"), tmp_path)
    for name in HOSTILE_NAMES:
        assert name in text
    assert "Title 3: #sys.inputs {} $" in text
    assert '#eval("1 + 1") Coalition (#C)' in text
    assert "root:" not in text  # /etc/passwd was not read


def test_the_letter_text_in_typst_markup_prints_as_written(letter, tmp_path, typst_engine):
    # Markdown's own characters aside ("*", "_", "[", "`"): they format the text, as on the web page.
    letter.body = "We ask for #panic(1) and $1 + 1$.[^1]\n\n[^1]: See #read(/etc/hostname) \\[1\\] @me ~ =."
    letter.closing = "Yours, #strong[us]"
    letter.save()
    signature_row(letter, make_individual("Anna Early"))
    text = pdf_text(exports.render_pdf(Roster(letter), "a4"), tmp_path)
    assert "We ask for #panic(1) and $1 + 1$.1" in text
    assert "See #read(/etc/hostname) [1] @me ~ =." in text
    assert "Yours, #strong[us]" in text


def test_raw_html_in_the_letter_text_is_laid_out_by_typst_too(letter, tmp_path, typst_engine):
    # A numbered list's start is the one attribute of the letter's own HTML the template reads.
    letter.body = (
        'Before.\n\n<ol start="x#1"><li>first</li></ol>\n\n<ol start="３"><li>third</li></ol>'
        '\n\n<ol start="99999999999999999999999"><li>last</li></ol>'
    )
    letter.save()
    pdf = exports.render_pdf(Roster(letter), "a4")
    assert "Typst" in PdfReader(io.BytesIO(pdf)).metadata.creator
    assert "first" in pdf_text(pdf, tmp_path)


def test_one_state_of_the_list_gives_the_same_bytes(letter, typst_engine):
    signature_row(letter, make_individual("이양희", title="성균관대학교 교수"))
    signature_row(letter, make_individual("فاطمة الزهراء العلوي"))
    first = exports.render_pdf(Roster(letter, dt.date(2023, 9, 21)), "a4")
    second = exports.render_pdf(Roster(letter, dt.date(2023, 9, 21)), "a4")
    assert first == second


def test_it_is_tagged_pdf_ua_with_the_letters_language_and_title(letter, typst_engine):
    signature_row(letter, make_individual("Lee Yanghee"))
    reader = PdfReader(io.BytesIO(exports.render_pdf(Roster(letter), "letter")))
    catalog = reader.trailer["/Root"]
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in catalog
    assert catalog["/Lang"] == "en"
    assert b"pdfuaid:part" in catalog["/Metadata"].get_object().get_data().replace(b'"', b"")
    assert reader.metadata.title == "Protect civic space"


@pytest.mark.parametrize(
    "body",
    ["#### A heading right under the title\n\nText.", "### Three\n\n## Two\n\n#### Four\n\nText."],
)
def test_a_letter_whose_headings_skip_a_level_still_gets_its_pdf(letter, tmp_path, typst_engine, body):
    # PDF/UA forbids skipped heading levels, and Typst refused the document (a 500).
    letter.body = body
    letter.save()
    signature_row(letter, make_individual("Anna Early"))
    pdf = exports.render_pdf(Roster(letter), "a4")
    assert "Typst" in PdfReader(io.BytesIO(pdf)).metadata.creator
    assert "Anna Early" in pdf_text(pdf, tmp_path)


def test_a_letter_typst_refuses_is_laid_out_by_weasyprint_and_logged_without_its_text(
    letter, tmp_path, typst_engine, monkeypatch, caplog
):
    from typst import TypstError

    def refuse(roster, paper, versions=None):
        raise TypstError("PDF/UA-1 error: Anna Early", "diagnostic Anna Early", [], [])

    monkeypatch.setattr(exports, "render_pdf_typst", refuse)
    signature_row(letter, make_individual("Anna Early"))
    pdf = exports.render_pdf(Roster(letter), "a4")
    assert "Anna Early" in pdf_text(pdf, tmp_path)
    assert "WeasyPrint" in PdfReader(io.BytesIO(pdf)).metadata.producer
    assert f"letter {letter.pk} (PDF/UA-1 error)" in caplog.text
    assert "Anna" not in caplog.text


def test_weasyprint_is_one_setting_away(letter, settings, tmp_path):
    settings.PDF_ENGINE = "weasyprint"
    signature_row(letter, make_individual("Anna Early"))
    pdf = exports.render_pdf(Roster(letter), "a4")
    assert "WeasyPrint" in PdfReader(io.BytesIO(pdf)).metadata.producer
    assert "Anna Early" in pdf_text(pdf, tmp_path)


def test_typst_lays_out_in_a_child_process_that_gives_its_memory_back():
    # Typst keeps what it laid out for its next ten documents: 250 MB a
    # compile of 11,000 names, held for good by a server process.
    import os

    assert int(typst_pdf.in_a_child(lambda: str(os.getpid()).encode())) != os.getpid()


def test_a_typst_error_in_the_child_is_raised_in_the_parent():
    from typst import TypstError

    def refuse():
        raise TypstError("PDF/UA-1 error: missing document title")

    with pytest.raises(TypstError, match="missing document title"):
        typst_pdf.in_a_child(refuse)


def test_a_child_that_dies_without_a_pdf_is_a_typst_error():
    import os

    from typst import TypstError

    with pytest.raises(TypstError, match="without a PDF"):
        typst_pdf.in_a_child(lambda: os._exit(9))


def sign_many(letter, n: int) -> None:
    """n approved signatures, written in bulk (signature_row one by one takes a while)."""
    people = []
    for number in range(n):
        person = Individual(name=f"Signer Number{number:05}", title="Professor", country="FR")
        person.refresh_derived_fields()
        people.append(person)
    signed_at = dt.datetime(2023, 9, 1, tzinfo=dt.UTC)
    Signature.objects.bulk_create(
        Signature(
            letter=letter,
            individual=person,
            status=Signature.Status.APPROVED,
            signed_at=signed_at,
            public_consent=True,
        )
        for person in Individual.objects.bulk_create(people)
    )
    Letter.objects.filter(pk=letter.pk).roster_changed()


def test_a_list_past_the_old_bound_is_rendered_within_the_request(client, letter, typst_engine, monkeypatch):
    # With WeasyPrint (43 s for 11,000 names) a list past 1,500 names went to a worker.
    monkeypatch.setattr(exports, "render_pdf_later", mock.Mock())
    sign_many(letter, 1600)
    response = client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    assert not exports.render_pdf_later.enqueue.called


def test_the_bound_lets_11000_names_render_within_the_request_with_typst_only(settings):
    assert exports.inline_max_entries() >= 11_000
    settings.PDF_ENGINE = "weasyprint"
    assert exports.inline_max_entries() == 1500


def test_a_child_past_its_time_is_ended_and_is_a_typst_error(monkeypatch):
    # Orphaned when gunicorn kills its worker, a child laid out on for as long as it took.
    import time

    from typst import TypstError

    monkeypatch.setattr(typst_pdf, "CHILD_MAX_SECONDS", 1)
    started = time.monotonic()
    with pytest.raises(TypstError, match="without a PDF"):
        typst_pdf.in_a_child(lambda: time.sleep(30) or b"")
    assert time.monotonic() - started < 10


@contextlib.contextmanager
def another_thread_running():
    """A process with threads (runserver, gthread workers), where forking is unsafe."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def test_a_process_with_threads_lays_out_in_a_new_process_the_same_bytes(letter, typst_engine, monkeypatch):
    # A forked child of a threaded process may inherit a lock another thread held, and wait for ever.
    signature_row(letter, make_individual("이양희", title="성균관대학교 교수"))
    roster = Roster(letter, dt.date(2023, 9, 21))
    forked = exports.render_pdf(roster, "a4")
    monkeypatch.setattr(typst_pdf, "in_a_child", mock.Mock(side_effect=AssertionError("forked")))
    with another_thread_running():
        spawned = exports.render_pdf(roster, "a4")
    assert spawned == forked


def test_a_typst_error_in_the_new_process_is_raised_in_the_parent():
    from typst import TypstError

    made = dt.datetime(2023, 9, 21, tzinfo=dt.UTC)
    inputs = {"body": "[]", "title": "", "date": "2023-09-21", "lang": "en", "dir": "ltr", "paper": "a4"}
    with another_thread_running(), pytest.raises(TypstError, match="PDF/UA-1 error"):
        typst_pdf.in_a_new_process(inputs, made)


def test_a_list_reaches_typst_as_rows_of_strings_not_as_trees(letter):
    # A tree of spans per entry, rendered generically and then thrown away,
    # took Typst 27 kB an entry: 2.7 GB for 100,000 (bench/pdf_engines.py).
    from letters.outputs.printing import main_version, print_html

    signature_row(letter, make_individual("Anna Early", title="Professor"))
    signature_row(letter, make_organization("Front Line Defenders"))
    roster = Roster(letter)
    tree = typst_pdf.page_tree(print_html(roster, "a4", main_version(letter)))
    lists = []

    def find(node):
        if isinstance(node, list) and len(node) == 3 and isinstance(node[1], dict):
            if "roster-list" in node[1].get("class", ""):
                lists.append(node[2])
            for child in node[2]:
                find(child)

    for node in tree:
        find(node)
    assert sorted(lists) == [
        [["Anna Early", "ltr", "Professor", "ltr", ""]],
        [["Front Line Defenders", "ltr", "", "", ""]],
    ]


def test_a_name_and_a_title_of_different_directions_both_print(letter, tmp_path, typst_engine):
    # One paragraph an entry when its lines read the same way; a paragraph a line otherwise.
    signature_row(letter, make_individual("Lina Haddad", title="أستاذة القانون الدولي"))
    signature_row(letter, make_individual("فاطمة الزهراء العلوي", title="Professor of Law"))
    signature_row(letter, make_individual("Anna Early", title="Professor"))
    text = pdf_text(exports.render_pdf(Roster(letter), "a4"), tmp_path)
    for words in ["Lina Haddad", "Professor of Law", "Anna Early", "Professor"]:
        assert words in text
    for word in ["أستاذة", "القانون", "الدولي", "فاطمة", "الزهراء", "العلوي"]:
        assert word in text
    assert text.index("Lina Haddad") < text.index("أستاذة")  # each title under its name
    assert text.index("العلوي") < text.index("Professor of Law")

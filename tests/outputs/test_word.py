"""The Word document: on the PDF's paper (A4), not python-docx's US Letter."""

import io

import docx
import docx.document
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db


def test_the_word_document_is_on_a4_like_the_pdf(client, letter):
    signature_row(letter, make_individual("Jane Doe"))

    response = client.get("/letters/civic-space/letter.docx?as_of=2023-09-21")

    assert response.status_code == 200
    document = docx.Document(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    [section] = document.sections
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert round(section.left_margin.mm) == 25


def test_the_letters_admin_page_offers_word_beside_print_pdf_and_csv(staff_client, letter):
    html = staff_client.get(f"/admin/letters/letter/{letter.pk}/change/").content.decode()

    outputs = html[html.index('id="dated-outputs"') :]
    for label, url in [
        ("Print version", None),
        ("PDF", "/letters/civic-space/letter.pdf"),
        ("Word", "/letters/civic-space/letter.docx"),
        ("Press CSV", "/letters/civic-space/signatories.csv"),
    ]:
        assert f">{label}</button>" in outputs
        if url:
            assert f'formaction="{url}"' in outputs


def _document(response) -> docx.document.Document:
    return docx.Document(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )


def _roster_paragraphs(document) -> list:
    """The paragraphs from the roster's heading on (style, text), as Word shows them."""
    paragraphs = document.paragraphs
    start = max(n for n, p in enumerate(paragraphs) if p.style.name == "Heading 2")
    return paragraphs[start:]


def test_the_word_document_lists_each_section_its_names_titles_and_unnamed_count(client, letter):
    signature_row(letter, make_individual("Jane Doe", title="Professor of Law"))
    signature_row(letter, make_individual("Ali Ben & <Sons>"))
    signature_row(letter, make_individual("Hidden Person", title="Hidden title"), unnamed=True)
    signature_row(letter, make_organization("The Elders", acronym="TE"))

    document = _document(client.get("/letters/civic-space/letter.docx?as_of=2023-09-21"))

    shown = [(p.style.name, p.text) for p in _roster_paragraphs(document)]
    assert [text for style, text in shown if style == "Heading 3"] == ["Individuals", "Organizations"]
    individuals = shown.index(("Heading 3", "Individuals"))
    assert shown[individuals + 1 :] == [
        ("Normal", "Ali Ben & <Sons>"),
        ("Normal", "Jane Doe\nProfessor of Law"),
        ("Normal", "and 1 other individual who cannot be named for their safety"),
        ("Heading 3", "Organizations"),
        ("Normal", "The Elders (TE)"),
    ]
    assert "Hidden" not in "\n".join(p.text for p in document.paragraphs)


def test_each_entry_is_kept_on_one_page_its_name_bold_and_its_title_small(client, letter):
    signature_row(letter, make_individual("Jane Doe", title="Professor of Law"))

    document = _document(client.get("/letters/civic-space/letter.docx?as_of=2023-09-21"))

    [entry] = [p for p in document.paragraphs if p.text.startswith("Jane Doe")]
    assert entry.paragraph_format.keep_together
    assert entry.paragraph_format.space_after.pt == 4
    name, _, title = entry.runs
    assert (name.text, name.bold) == ("Jane Doe", True)
    assert (title.text, title.font.size.pt) == ("Professor of Law", 9)


def test_in_an_arabic_page_each_name_keeps_its_own_direction(client, letter):
    signature_row(letter, make_individual("Jane Doe"))
    signature_row(letter, make_individual("محمد علي"))

    response = client.get("/letters/civic-space/letter.docx?as_of=2023-09-21&lang=ar")

    entries = {p.text: p for p in _document(response).paragraphs if p.text in {"Jane Doe", "محمد علي"}}
    latin, arabic = entries["Jane Doe"], entries["محمد علي"]
    assert latin.alignment == WD_ALIGN_PARAGRAPH.RIGHT  # the column stays aligned, as in print.css
    assert latin._p.pPr.find(qn("w:bidi")) is None
    assert arabic._p.pPr.find(qn("w:bidi")) is not None
    assert arabic.alignment is None

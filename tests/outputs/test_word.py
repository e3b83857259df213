"""The Word document: on the PDF's paper (A4), not python-docx's US Letter."""

import io

import docx
import pytest

from tests.factories import make_individual, signature_row

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

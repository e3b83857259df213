"""
The one rule of what a printed name or line may hold (signatories.normalize),
and the outputs that must survive a row stored before the rule refused it.
"""

import io

import openpyxl
import pytest
from docx import Document

from letters.models import Signature
from signatories.models import Individual
from signatories.normalize import clean_text, has_control_characters, xml_text
from tests.factories import export, make_individual, signature_row


@pytest.mark.parametrize(
    "text",
    [
        "Ana\uffff",
        "Ana\ufffe",
        "Ana\U0001ffff",
        "Ana\ufdd0",
        "Ana\ud800",
        "Grace Imp\u200borted",
        "Ana\u2060Pérez",
        "\ufeffAna",
        "Ana\u00adPérez",
        "Ana\u202ePérez",
        "Ana\U000e0041",
        "Ana \u200d",
    ],
)
def test_noncharacters_surrogates_and_format_characters_are_refused_and_stripped(text):
    assert has_control_characters(text)
    assert not has_control_characters(clean_text(text))


@pytest.mark.parametrize(
    "text",
    [
        "می\u200cخواهم",  # Persian: a ZWNJ inside a word
        "क्\u200dष",  # Devanagari: a ZWJ choosing a conjunct's form
        "Ngozi Eze-Ọ̀kọ̀",
        "Lee Yanghee",
        "\ue000 Private",
    ],
)
def test_what_scripts_need_is_kept(text):
    assert not has_control_characters(text)
    assert clean_text(text) == text


def test_a_line_break_stays_a_space_when_stripped():
    assert clean_text("Ana\nPérez\u200b") == "Ana Pérez"
    assert clean_text("Ana \u200b Pérez") == "Ana Pérez"


def test_xml_text_drops_only_what_xml_cannot_hold():
    assert xml_text("A\uffff\x00\tB\u200f\ud800\ufdd0") == "A\tB\u200f"


@pytest.fixture
def stored_badly(letter):
    """A name and title stored with U+FFFF and a control, written past save() as an old row would be."""
    signature = signature_row(letter, make_individual("Ana Pérez", title="Poet", email="ana@example.org"))
    stored = Individual.objects.filter(pk=signature.individual_id)
    stored.update(name="Ana\uffff Pérez", title="Po\x01et\ufffe")
    Signature.objects.filter(pk=signature.pk).update(signer_name="Ana\uffff")
    return signature


@pytest.mark.django_db
def test_the_word_document_leaves_out_what_xml_cannot_hold(client, stored_badly):
    response = client.get("/letters/civic-space/letter.docx")
    assert response.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
    assert "Ana Pérez" in text and "Poet" in text


@pytest.mark.django_db
def test_the_staff_xlsx_export_leaves_out_what_xml_cannot_hold(staff_client, stored_badly):
    workbook = openpyxl.load_workbook(io.BytesIO(export(staff_client, 1)))
    cells = [cell for row in workbook.active.iter_rows(values_only=True) for cell in row]
    assert "Ana Pérez" in cells and "Poet" in cells

"""The staff import page, as a campaigner uses it: plain sentences for every problem, never a traceback."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from letters.models import Signature
from signatories.models import Individual
from tests.factories import GOOD

pytestmark = pytest.mark.django_db

IMPORT = "/admin/letters/signature/import/"
CONFIRM = "/admin/letters/signature/process_import/"


def upload(client, letter, content: bytes, name: str = "signatures.csv", file_format: str = "0", **extra):
    return client.post(
        IMPORT,
        {
            "letter": letter.pk,
            "resource": "0",
            "format": file_format,
            "import_file": SimpleUploadedFile(name, content),
            **extra,
        },
    )


def workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def assert_plain(response) -> str:
    html = response.content.decode()
    assert "Traceback" not in html and 'class="traceback"' not in html
    assert "Error" not in html.replace("errorlist", "").replace("errornote", "")
    assert not Signature.objects.exists() and not Individual.objects.exists()
    return html


# -- whole-file problems -----------------------------------------------------------


def test_a_google_form_export_without_a_name_column_says_which_columns_are_missing(staff_client, letter):
    text = "Timestamp,Email Address,Affiliation\n9/15/2023 14:03:22,a@example.org,Oxfam\n"

    response = upload(staff_client, letter, text.encode())

    assert response.status_code == 200  # the form again, the sentence next to the file
    html = assert_plain(response)
    assert "Line 1 (the column names) has no “name” column" in html
    assert "Confirm import" not in html


def test_every_missing_column_is_named_not_only_the_first(staff_client, letter):
    response = upload(staff_client, letter, b"Email Address,Affiliation\na@example.org,Oxfam\n")

    html = assert_plain(response)
    assert "“name”" in html and "“signed_on”" in html


def test_a_binary_file_named_csv_is_a_sentence_next_to_the_file(staff_client, letter):
    response = upload(staff_client, letter, bytes(range(256)) * 8)

    assert response.status_code == 200  # the form again, the sentence next to the file
    html = assert_plain(response)
    assert "not a CSV file" in html or "UTF-8" in html
    assert response.context["form"].errors["import_file"]


def test_a_workbook_uploaded_as_csv_says_to_choose_xlsx(staff_client, letter):
    content = workbook([["name", "signed_on"], ["Ana", "2023-09-01"]])

    response = upload(staff_client, letter, content, name="list.csv", file_format="0")

    assert response.status_code == 200  # the form again, the sentence next to the file
    assert_plain(response)
    assert "Excel workbook" in response.context["form"].errors["import_file"][0]


def test_a_csv_uploaded_as_xlsx_says_to_choose_csv(staff_client, letter):
    response = upload(staff_client, letter, GOOD.encode(), name="list.xlsx", file_format="1")

    assert response.status_code == 200  # the form again, the sentence next to the file
    assert_plain(response)
    message = response.context["form"].errors["import_file"][0]
    assert "not an Excel workbook" in message and "encountered" not in message


def test_two_columns_of_one_kind_are_a_sentence_on_the_page(staff_client, letter):
    text = "Name,name ,signed_on\nAna,Ana B,2023-09-01\n"

    response = upload(staff_client, letter, text.encode())

    assert response.status_code == 200  # the form again, the sentence next to the file
    html = assert_plain(response)
    assert "more than one “name” column" in html

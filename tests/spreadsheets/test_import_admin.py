"""The staff import page, as a campaigner uses it: plain sentences for every problem, never a traceback."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.html import strip_tags

from letters.models import Signature
from signatories.models import Individual
from tests.factories import GOOD, make_individual, signature_row

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


# -- the dates and the columns, chosen on the page ------------------------------------

AMBIGUOUS = "type,name,signed_on\nindividual,Ana Pérez,9/10/2023\n"


def confirm_data(preview) -> dict:
    form = preview.context["confirm_form"]
    return {name: form.initial[name] for name in form.fields}


def test_a_day_that_reads_two_ways_is_imported_as_the_page_says_the_file_writes_it(staff_client, letter):
    refused = upload(staff_client, letter, AMBIGUOUS.encode())
    assert "day-first or month-first" in refused.content.decode()

    preview = upload(staff_client, letter, AMBIGUOUS.encode(), dates="dmy")
    assert "Confirm import" in preview.content.decode()
    assert "Day first" in preview.content.decode()

    done = staff_client.post(CONFIRM, confirm_data(preview))

    assert done.status_code == 302
    signature = Signature.objects.get()
    assert letter.local_date(signature.signed_at).isoformat() == "2023-10-09"


def test_a_made_up_date_order_is_a_form_error(staff_client, letter):
    response = upload(staff_client, letter, AMBIGUOUS.encode(), dates="ymd")
    assert response.status_code == 200
    assert "dates" in response.context["form"].errors
    assert not Signature.objects.exists()


FORM_EXPORT = "Timestamp,Nom complet,Pays\n9/15/2023 14:03:22,Ana Pérez,France\n"


def test_unknown_headers_are_asked_about_and_the_file_is_kept(staff_client, letter):
    asked = upload(staff_client, letter, FORM_EXPORT.encode())

    html = assert_plain(asked)
    assert "Confirm import" not in html
    assert "Column “Nom complet” is" in html and "Column “Pays” is" in html
    form = asked.context["form"]
    waiting = form.data["upload"]
    assert form.data["header_0"] == "Nom complet"

    preview = staff_client.post(
        IMPORT,
        {
            "letter": letter.pk,
            "resource": "0",
            "format": "0",
            "upload": waiting,
            "upload_name": "form.csv",
            "header_0": "Nom complet",
            "column_0": "name",
            "header_1": "Pays",
            "column_1": "country",
        },
    )

    assert "Confirm import" in preview.content.decode()
    done = staff_client.post(CONFIRM, confirm_data(preview))
    assert done.status_code == 302
    person = Individual.objects.get()
    assert (person.name, person.country.code) == ("Ana Pérez", "FR")


def test_the_choice_is_preselected_next_time_the_same_headers_come(staff_client, letter):
    from letters.models import ImportColumnMap

    first = upload(staff_client, letter, FORM_EXPORT.encode())
    staff_client.post(
        IMPORT,
        {
            "letter": letter.pk,
            "resource": "0",
            "format": "0",
            "upload": first.context["form"].data["upload"],
            "upload_name": "form.csv",
            "header_0": "Nom complet",
            "column_0": "name",
            "header_1": "Pays",
            "column_1": "ignore",
        },
    )
    assert ImportColumnMap.objects.get().mapping == {"nom complet": "name", "pays": "ignore"}

    again = upload(staff_client, letter, FORM_EXPORT.replace("Ana Pérez", "Bo Li").encode())

    form = again.context["form"]
    assert (form.data["column_0"], form.data["column_1"]) == ("name", "ignore")
    assert 'value="name" selected' in again.content.decode()


def test_a_column_left_out_is_not_read(staff_client, letter):
    first = upload(staff_client, letter, FORM_EXPORT.encode())
    preview = staff_client.post(
        IMPORT,
        {
            "letter": letter.pk,
            "resource": "0",
            "format": "0",
            "upload": first.context["form"].data["upload"],
            "upload_name": "form.csv",
            "header_0": "Nom complet",
            "column_0": "name",
            "header_1": "Pays",
            "column_1": "ignore",
        },
    )
    staff_client.post(CONFIRM, confirm_data(preview))
    assert Individual.objects.get().country.code == ""


def test_a_waiting_upload_that_is_gone_is_a_sentence(staff_client, letter):
    response = staff_client.post(
        IMPORT,
        {"letter": letter.pk, "resource": "0", "format": "0", "upload": "0" * 32, "upload_name": "x.csv"},
    )
    assert response.status_code == 200
    assert "Upload it again" in response.context["form"].errors["import_file"][0]


@pytest.mark.parametrize("columns", ["not json", '{"a": "password"}', "[1]"])
def test_tampered_column_choices_at_confirmation_are_refused(staff_client, letter, columns):
    preview = upload(staff_client, letter, GOOD.encode())
    data = {**confirm_data(preview), "columns": columns}

    response = staff_client.post(CONFIRM, data)

    assert response.status_code == 400
    assert not Signature.objects.exists()


# -- the template file -------------------------------------------------------------


def test_the_import_page_offers_a_template_that_imports_as_it_is(staff_client, letter, tmp_path):
    page = staff_client.get(IMPORT).content.decode()
    assert "/admin/letters/signature/import/template.csv" in page
    assert "/admin/letters/signature/import/template.xlsx" in page

    template = staff_client.get("/admin/letters/signature/import/template.csv")

    assert template.status_code == 200
    assert template["Content-Disposition"] == 'attachment; filename="signatures-template.csv"'
    text = template.content.decode("utf-8-sig")
    assert (
        text.splitlines()[0]
        == "type,name,title,acronym,country,signed_on,email,family_name,sort_name,website"
    )
    assert len(text.splitlines()) == 2  # the header and one example row
    preview = upload(staff_client, letter, template.content)
    assert "Confirm import" in preview.content.decode()


def test_the_xlsx_template_has_the_columns_and_one_example_row(staff_client, letter):
    template = staff_client.get("/admin/letters/signature/import/template.xlsx")

    assert template.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(template.content)).active.values)
    assert list(rows[0]) == [
        "type",
        "name",
        "title",
        "acronym",
        "country",
        "signed_on",
        "email",
        "family_name",
        "sort_name",
        "website",
    ]
    assert len(rows) == 2
    preview = upload(staff_client, letter, template.content, name="t.xlsx", file_format="1")
    assert "Confirm import" in preview.content.decode()


def test_the_template_is_for_staff_who_may_import(moderator_client):
    assert Client().get("/admin/letters/signature/import/template.csv").status_code == 302  # the login
    assert moderator_client.get("/admin/letters/signature/import/template.csv").status_code == 403


def test_a_template_of_another_kind_is_not_found(staff_client):
    assert staff_client.get("/admin/letters/signature/import/template.pdf").status_code == 404


# -- the preview ---------------------------------------------------------------------


def test_the_preview_shows_each_row_as_it_will_print_and_where_it_sorts(staff_client, letter):
    text = (
        "type,name,title,acronym,country,signed_on\n"
        'individual,Ana Pérez,"Director, Example Institute",,France,2023-09-15\n'
        "organization,Example Network,,EN,KE,2023-09-16\n"
    )

    preview = upload(staff_client, letter, text.encode())

    result = preview.context["result"]
    headers = [str(header) for header in result.diff_headers]
    assert headers[:2] == ["printed as", "sorts as"]
    rows = [dict(zip(headers, map(strip_tags, row.diff), strict=True)) for row in result.valid_rows()]
    assert rows[0]["printed as"] == "Ana Pérez · Director, Example Institute · France"
    assert rows[0]["sorts as"] == Individual(name="Ana Pérez").effective_sort_name
    assert rows[1]["printed as"] == "Example Network (EN) · Kenya"
    assert rows[1]["sorts as"] == "Example Network"
    assert "Ana Pérez · Director, Example Institute · France" in preview.content.decode()


# -- after the confirmation ------------------------------------------------------------


def test_after_confirming_staff_land_on_the_rows_just_imported(staff_client, letter):
    earlier = signature_row(letter, make_individual("Someone Earlier"), source=Signature.Source.IMPORT)
    preview = upload(staff_client, letter, GOOD.encode())

    done = staff_client.post(CONFIRM, confirm_data(preview))

    assert done.status_code == 302
    assert "imported=" in done["Location"] and "queue=all" in done["Location"]
    page = staff_client.get(done["Location"])
    assert page.status_code == 200
    listed = {signature.pk for signature in page.context["cl"].result_list}
    assert listed == set(Signature.objects.exclude(pk=earlier.pk).values_list("pk", flat=True))
    assert len(listed) == 3
    html = page.content.decode()
    assert "Imported just now: 3 rows" in html


@pytest.mark.parametrize("value", ["x", "-1", "9" * 30, "9000000000000000000"])
def test_a_made_up_import_moment_is_refused_like_any_bad_filter(staff_client, letter, value):
    response = staff_client.get("/admin/letters/signature/", {"imported": value, "queue": "all"})
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert not response.context["cl"].result_list

"""The staff import cannot be pointed at other files, and refuses files too big to parse safely."""

import contextlib
import io
import re
import tempfile
import zipfile
from pathlib import Path
from unittest import mock

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from import_export.formats.base_formats import XLSX

from letters.admin.imports import count_rows
from letters.models import Signature
from tests.factories import GOOD, HEADER

pytestmark = pytest.mark.django_db


def upload(client, letter, content: bytes, name: str = "signatures.csv", file_format: str = "0"):
    return client.post(
        "/admin/letters/signature/import/",
        {
            "letter": letter.pk,
            "resource": "0",
            "format": file_format,
            "import_file": SimpleUploadedFile(name, content),
        },
    )


def confirm(client, letter, import_file_name: str, file_format: str = "0"):
    return client.post(
        "/admin/letters/signature/process_import/",
        {
            "letter": letter.pk,
            "import_file_name": import_file_name,
            "original_file_name": "signatures.csv",
            "format": file_format,
            "resource": "0",
        },
    )


@pytest.fixture
def stray_file():
    """A file of the server's temporary folder that is not an upload (here, an importable CSV)."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8") as file:
        file.write(GOOD)
    path = Path(file.name)
    yield path
    path.unlink(missing_ok=True)


def test_a_confirmation_naming_a_file_of_the_temporary_folder_neither_reads_nor_deletes_it(
    staff_client, letter, stray_file
):
    response = confirm(staff_client, letter, stray_file.name)

    assert response.status_code == 400
    assert "Upload it again" in response.content.decode()
    assert stray_file.exists() and stray_file.read_text(encoding="utf-8") == GOOD
    assert not Signature.objects.exists()


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/hostname", "0" * 32, "a" * 31])
def test_a_confirmation_with_any_other_name_is_refused(staff_client, letter, name):
    response = confirm(staff_client, letter, name)
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_the_upload_waits_in_the_cache_under_a_random_name_until_confirmed(staff_client, letter):
    preview = upload(staff_client, letter, GOOD.encode("utf-8-sig"))
    name = preview.context["confirm_form"].initial["import_file_name"]
    assert len(name) == 32 and not (Path(tempfile.gettempdir()) / name).exists()

    assert confirm(staff_client, letter, name).status_code == 302
    assert Signature.objects.filter(letter=letter).count() == 3
    # Used once: the same confirmation again imports nothing more.
    assert confirm(staff_client, letter, name).status_code == 400
    assert Signature.objects.filter(letter=letter).count() == 3


@pytest.mark.parametrize("file_format", ["7", "-1", "x"])
def test_a_confirmation_with_a_made_up_format_is_refused(staff_client, letter, file_format):
    preview = upload(staff_client, letter, GOOD.encode("utf-8-sig"))
    name = preview.context["confirm_form"].initial["import_file_name"]

    assert confirm(staff_client, letter, name, file_format).status_code == 400
    assert not Signature.objects.exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(staff_client, letter, settings):
    settings.IMPORT_MAX_BYTES = 100
    with mock.patch("letters.spreadsheets.files.ImportCSV.create_dataset") as parse:
        response = upload(staff_client, letter, GOOD.encode())

    assert not parse.called
    errors = " ".join(response.context["form"].errors["import_file"]).replace("\xa0", " ")
    assert "The file is 289 bytes; an import takes at most 100 bytes." in errors
    assert "confirm_form" not in response.context
    assert not Signature.objects.exists()


@contextlib.contextmanager
def stored_chunks():
    """What Django's own upload handlers keep, in memory or in a temporary file."""
    received = []
    keep = mock.Mock(side_effect=lambda chunk, start: received.append(chunk))
    with (
        mock.patch("django.core.files.uploadhandler.MemoryFileUploadHandler.receive_data_chunk", keep),
        mock.patch("django.core.files.uploadhandler.TemporaryFileUploadHandler.receive_data_chunk", keep),
    ):
        yield received


def test_a_file_far_over_the_size_limit_is_never_stored_in_memory_or_on_disk(staff_client, letter, settings):
    # Django keeps an upload in memory up to 2.5 MB and then writes it to a
    # temporary file, whatever its size, before any form can refuse it.
    settings.IMPORT_MAX_BYTES = 100
    with stored_chunks() as stored:
        response = upload(staff_client, letter, GOOD.encode() * 1000)

    assert stored == []
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["import_file"]).replace("\xa0", " ")
    assert "an import takes at most 100 bytes. Split it into smaller files." in errors
    assert "The upload is 28" in errors  # about 289 kB, the form's other fields included
    assert not Signature.objects.exists()


def test_a_file_posted_by_a_visitor_is_never_stored(staff_client, letter):
    form = {"kind": "individual", "name": "Ann Roe", "email": "ann@example.org", "public_consent": "on"}
    with stored_chunks() as stored:
        response = Client().post(
            f"/letters/{letter.slug}/sign/", {**form, "attachment": SimpleUploadedFile("a.bin", b"x" * 4096)}
        )
        assert response.status_code == 302  # the signature itself goes through
        assert stored == []
        # Staff's import of a file within the limit is read as before.
        upload(staff_client, letter, GOOD.encode())
        assert b"".join(stored) == GOOD.encode()


def test_a_csv_over_the_row_limit_is_refused_before_it_is_parsed(staff_client, letter, settings):
    settings.IMPORT_MAX_ROWS = 2
    with mock.patch("letters.spreadsheets.files.ImportCSV.create_dataset") as parse:
        response = upload(staff_client, letter, GOOD.encode())

    assert not parse.called
    errors = " ".join(response.context["form"].errors["import_file"])
    assert "The file has 3 rows; an import takes at most 2." in errors

    settings.IMPORT_MAX_ROWS = 3
    assert "confirm_form" in upload(staff_client, letter, GOOD.encode()).context


def test_an_xlsx_over_the_row_limit_is_refused_before_it_is_parsed(staff_client, letter, settings):
    settings.IMPORT_MAX_ROWS = 5
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.strip().split(","))
    for n in range(6):
        sheet.append(["individual", f"Person {n}", "", "", "", "2023-09-01"])
    content = io.BytesIO()
    workbook.save(content)

    with mock.patch("letters.spreadsheets.files.ImportXLSX.create_dataset") as parse:
        response = upload(staff_client, letter, content.getvalue(), "signatures.xlsx", file_format="1")

    assert not parse.called
    assert "The file has 6 rows" in " ".join(response.context["form"].errors["import_file"])


def write_only_workbook(rows: int) -> bytes:
    """An XLSX that does not state its size (openpyxl's write-only mode, like some exporters)."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER.strip().split(","))
    for n in range(rows):
        sheet.append(
            ["individual", f"Person {n}", "A title long enough to fill the XML", "", "AR", "2023-09-01"]
        )
    content = io.BytesIO()
    workbook.save(content)
    return content.getvalue()


def test_an_xlsx_that_does_not_state_its_size_is_counted_before_it_is_parsed(staff_client, letter, settings):
    settings.IMPORT_MAX_ROWS = 5
    with mock.patch("letters.spreadsheets.files.ImportXLSX.create_dataset") as parse:
        response = upload(staff_client, letter, write_only_workbook(6), "signatures.xlsx", file_format="1")

    assert not parse.called
    assert "The file has 6 rows" in " ".join(response.context["form"].errors["import_file"])


def test_the_row_count_of_an_unsized_xlsx_is_exact_across_chunks(settings):
    settings.IMPORT_MAX_ROWS = 100_000
    upload = SimpleUploadedFile("big.xlsx", write_only_workbook(3000))  # about 1 MB of XML: many chunks
    assert count_rows(upload, XLSX) == 3001


@pytest.mark.parametrize("content", [b"not a workbook", b"PK\x03\x04broken zip", b""])
def test_a_file_that_is_no_workbook_is_a_form_error_not_a_crash(staff_client, letter, content):
    response = upload(staff_client, letter, content, "signatures.xlsx", file_format="1")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Signature.objects.exists()


def test_an_xlsx_waits_and_imports_on_the_database_cache_that_production_uses(staff_client, letter, settings):
    from django.core.cache import caches
    from django.core.management import call_command

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "test_import_cache"}
    }
    call_command("createcachetable", verbosity=0)
    assert type(caches["default"]).__name__ == "DatabaseCache"
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER.strip().split(","))
    workbook.active.append(["individual", "Ana Pérez", "Lawyer", "", "AR", "2023-09-06"])
    content = io.BytesIO()
    workbook.save(content)

    preview = upload(staff_client, letter, content.getvalue(), "signatures.xlsx", file_format="1")
    form = preview.context["confirm_form"]
    data = {name: form.initial[name] for name in form.fields}
    done = staff_client.post("/admin/letters/signature/process_import/", data)

    assert done.status_code == 302
    assert Signature.objects.get(letter=letter).individual.name == "Ana Pérez"


def test_a_file_from_a_staff_session_without_its_second_factor_is_never_stored(
    staff_client, letter, settings
):
    settings.STAFF_REQUIRE_2FA = True  # and this session gave only the password
    form = {"kind": "individual", "name": "Ann Roe", "email": "ann@example.org", "public_consent": "on"}
    with stored_chunks() as stored:
        # Any URL whose view reads the form parses the files first.
        staff_client.post(
            f"/letters/{letter.slug}/sign/", {**form, "file": SimpleUploadedFile("a.csv", b"x" * 99)}
        )
    assert stored == []


def understated_workbook(rows: int) -> bytes:
    """An XLSX whose <dimension> claims two rows, over a header and `rows` rows."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.strip().split(","))
    for n in range(rows):
        sheet.append(["individual", f"Person {n}", "", "", "AR", "2023-09-01"])
    content = io.BytesIO()
    workbook.save(content)
    source, out = zipfile.ZipFile(io.BytesIO(content.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, found = re.subn(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:I2"/>', data)
                assert found == 1
            target.writestr(item, data)
    return out.getvalue()


def test_an_xlsx_understating_its_size_is_read_to_its_last_row(staff_client, letter, settings):
    settings.IMPORT_MAX_ROWS = 10
    response = upload(staff_client, letter, understated_workbook(6), "signatures.xlsx", file_format="1")
    assert "confirm_form" in response.context
    assert len(response.context["result"].rows) == 6


def test_an_xlsx_understating_its_size_is_counted_to_its_last_row_before_it_is_parsed(
    staff_client, letter, settings
):
    settings.IMPORT_MAX_ROWS = 5
    with mock.patch("letters.spreadsheets.files.ImportXLSX.create_dataset") as parse:
        response = upload(staff_client, letter, understated_workbook(6), "signatures.xlsx", file_format="1")

    assert not parse.called
    assert (
        "The file has 6 rows; an import takes at most 5." in response.context["form"].errors["import_file"][0]
    )
    assert not Signature.objects.exists()


def test_a_file_found_too_long_while_read_says_so_in_our_words(staff_client, letter, settings):
    settings.IMPORT_MAX_ROWS = 5
    with mock.patch("letters.admin.imports.count_rows", return_value=2):  # a count the file got past
        response = upload(staff_client, letter, understated_workbook(6), "signatures.xlsx", file_format="1")

    assert response.context["form"].errors["import_file"] == [
        "The file has more than 5 rows; an import takes at most 5. Split it into several files."
    ]
    assert not Signature.objects.exists()

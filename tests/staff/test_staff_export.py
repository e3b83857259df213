"""The staff export opens cleanly in a spreadsheet: a BOM for Excel, times in the letter's zone."""

import csv
import datetime as dt
import io

import openpyxl
import pytest

from tests.factories import export, make_individual, make_letter, signature_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def zurich_signature(db):
    letter = make_letter(timezone="Europe/Zurich")
    # 20 November at midnight in Zurich is 23:00 on the 19th in UTC.
    moment = dt.datetime(2026, 11, 19, 23, 0, tzinfo=dt.UTC)
    return signature_row(
        letter, make_individual("Ana Pérez"), signed_at=moment, submitted_at=moment, confirmed_at=moment
    )


def test_the_csv_starts_with_a_byte_order_mark_so_excel_reads_accents(staff_client, zurich_signature):
    content = export(staff_client, 0)

    assert content.startswith(b"\xef\xbb\xbf")
    assert "Ana Pérez" in content.decode("utf-8-sig")


def test_csv_times_are_in_the_letters_zone_with_their_offset(staff_client, zurich_signature):
    [row] = csv.DictReader(io.StringIO(export(staff_client, 0).decode("utf-8-sig"), newline=""))

    assert row["submitted_at"] == "2026-11-20 00:00:00+01:00"
    assert row["confirmed_at"] == "2026-11-20 00:00:00+01:00"
    assert row["signed_on"] == "2026-11-20"
    assert row["time_zone"] == "Europe/Zurich"
    assert row["withdrawn_at"] == ""


def test_xlsx_has_real_date_cells_in_the_letters_zone(staff_client, zurich_signature):
    sheet = openpyxl.load_workbook(io.BytesIO(export(staff_client, 1))).active
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, (cell.value for cell in sheet[2]), strict=True))

    assert row["submitted_at"] == dt.datetime(2026, 11, 20, 0, 0)
    assert row["signed_on"] == dt.datetime(
        2026, 11, 20, 0, 0
    )  # a date cell (openpyxl reads it back as datetime)
    assert sheet.cell(row=2, column=header.index("signed_on") + 1).is_date
    assert row["time_zone"] == "Europe/Zurich"

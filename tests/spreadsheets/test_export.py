"""Exports for staff and scripts: the round trip back into a letter, and formula escaping."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from letters.models import Signature
from letters.rosters import Roster
from tests.factories import export, make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db

TRIGGERS = ['=HYPERLINK("http://x")', "+1 555", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]


def day(d: int) -> dt.datetime:
    # Late in the New York evening: already the next day in UTC.
    return dt.datetime(2023, 9, d, 23, 30, tzinfo=dt.UTC) - dt.timedelta(hours=1)


@pytest.fixture
def busy_letter(letter):
    signature_row(
        letter, make_individual("Tomás Ojea-Quintana", title="Former Rapporteur", country="AR"), day(1)
    )
    signature_row(letter, make_individual("Åsa Berg", email="asa@example.org", country="SE"), day(2))
    signature_row(letter, make_individual("asa berg-lund", title="=Not a formula"), day(3))
    signature_row(letter, make_organization("ACAT - France", acronym="ACAT", country="FR"), day(1))
    signature_row(letter, make_organization("Amnesty International", acronym="AI", country="GB"), day(4))
    signature_row(letter, make_organization("Elders, The", country="KR"), day(2))
    # Not on the list: pending, rejected, withdrawn before today.
    signature_row(letter, make_individual("Pending Person"), status=Signature.Status.PENDING)
    signature_row(letter, make_individual("Rejected Person"), day(1), status=Signature.Status.REJECTED)
    signature_row(letter, make_individual("Withdrawn Person"), day(1), withdrawn_at=day(5))
    return letter


def test_an_export_imported_into_an_empty_letter_gives_the_same_roster(tmp_path, busy_letter):
    path = tmp_path / "press.csv"
    call_command("export_signatures", busy_letter.slug, "--output", str(path))
    empty = make_letter(slug="copy", timezone=busy_letter.timezone)

    call_command("import_signatures", "copy", str(path), stdout=io.StringIO())

    original = [entry.as_dict() for entry in Roster(busy_letter).entries()]
    copy = [entry.as_dict() for entry in Roster(empty).entries()]
    assert len(original) == 6
    assert copy == original
    # And on every earlier day too: signed_on came back as the same days (the
    # withdrawn signatory, gone from today's list, is not in the file).
    for d in range(1, 6):
        as_of = dt.date(2023, 9, d)
        then = [e for e in Roster(busy_letter, as_of).entries() if e.name != "Withdrawn Person"]
        assert Roster(empty, as_of).entries() == then


def test_the_command_writes_the_press_columns_as_of_a_day(busy_letter):
    out = io.StringIO()
    call_command("export_signatures", busy_letter.slug, "--as-of", "2023-09-01", stdout=out)

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0].keys()) == ["type", "name", "title", "acronym", "country", "signed_on"]
    assert [row["name"] for row in rows] == ["Tomás Ojea-Quintana", "Withdrawn Person", "ACAT - France"]
    assert rows[0]["country"] == "Argentina" and rows[0]["signed_on"] == "2023-09-01"
    assert "asa@example.org" not in out.getvalue()


def test_the_command_refuses_a_bad_day_or_letter(busy_letter):
    with pytest.raises(CommandError, match="not a date"):
        call_command("export_signatures", busy_letter.slug, "--as-of", "yesterday")
    with pytest.raises(CommandError, match="No letter"):
        call_command("export_signatures", "missing")


# -- the staff export ------------------------------------------------------------


def escaped_signatures(letter):
    for n, value in enumerate(TRIGGERS):
        # Names are tidied on save (no leading tab or CR), notes are kept as typed.
        name = value if value[0] not in "\t\r" else f"Person {n}"
        signature_row(letter, make_individual(name), notes=value, contact_email=f"p{n}@example.org")


def test_the_staff_csv_export_escapes_every_formula_trigger_and_carries_private_fields(staff_client, letter):
    escaped_signatures(letter)

    rows = list(csv.DictReader(io.StringIO(export(staff_client, 0).decode("utf-8-sig"), newline="")))

    assert {row["notes"] for row in rows} == {"'" + value for value in TRIGGERS}
    assert {row["name"] for row in rows} >= {"'" + value for value in TRIGGERS[:4]}
    assert {row["contact_email"] for row in rows} == {f"p{n}@example.org" for n in range(6)}


def test_the_staff_xlsx_export_escapes_every_formula_trigger(staff_client, letter):
    escaped_signatures(letter)

    sheet = openpyxl.load_workbook(io.BytesIO(export(staff_client, 1))).active
    header = [cell.value for cell in sheet[1]]
    notes = {row[header.index("notes")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    names = {row[header.index("name")] for row in sheet.iter_rows(min_row=2, values_only=True)}

    # Some XML readers give a carriage return back as a line feed; the apostrophe is what matters.
    assert {note.replace("\r", "\n") for note in notes} == {
        "'" + value.replace("\r", "\n") for value in TRIGGERS
    }
    assert names >= {"'" + value for value in TRIGGERS[:4]}
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


def test_the_staff_export_reimports_into_an_empty_letter(staff_client, busy_letter, tmp_path):
    content = export(staff_client, 1)
    path = tmp_path / "staff.xlsx"
    path.write_bytes(content)
    # The export is of every signature; the import takes the approved ones' columns as they are.
    empty = make_letter(slug="copy-2", timezone=busy_letter.timezone)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    header = [cell.value for cell in sheet[1]]
    for row in reversed(range(2, sheet.max_row + 1)):
        status = sheet.cell(row=row, column=header.index("status") + 1).value
        withdrawn = sheet.cell(row=row, column=header.index("withdrawn_at") + 1).value
        if status != "approved" or withdrawn:
            sheet.delete_rows(row)
    workbook.save(path)

    call_command("import_signatures", "copy-2", str(path), stdout=io.StringIO())

    assert Roster(empty).entries() == Roster(busy_letter).entries()


def test_a_control_character_does_not_break_the_xlsx_export(staff_client, letter):
    signature_row(letter, make_individual("Ordinary Name"), notes="pasted from a PDF\x01\x0b")
    sheet = openpyxl.load_workbook(io.BytesIO(export(staff_client, 1))).active
    assert sheet.max_row == 2

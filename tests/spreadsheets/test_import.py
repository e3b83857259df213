"""Importing a spreadsheet of signatures into a letter: the command, the admin, the matching rules."""

import datetime as dt
import io

import openpyxl
import pytest
import tablib
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from letters.models import Signature
from letters.rosters import Roster
from letters.spreadsheets.resources import SignatureImportResource
from signatories.models import Individual, Organization
from tests.factories import (
    GOOD,
    HEADER,
    export,
    make_individual,
    make_letter,
    make_organization,
    signature_row,
)

pytestmark = pytest.mark.django_db


def write(tmp_path, text: str, name: str = "signatures.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8-sig")
    return path


def run_import(letter, path) -> str:
    out = io.StringIO()
    call_command("import_signatures", letter.slug, str(path), stdout=out)
    return out.getvalue()


def test_a_good_file_becomes_approved_signatures_on_the_days_in_the_file(tmp_path, letter):
    summary = run_import(letter, write(tmp_path, GOOD))

    assert "Imported 3 signatures" in summary
    signatures = Signature.objects.filter(letter=letter)
    assert signatures.count() == 3
    assert all(s.status == Signature.Status.APPROVED for s in signatures)
    assert all(s.source == Signature.Source.IMPORT for s in signatures)
    assert all(s.approved_at is not None for s in signatures)
    lee = signatures.get(individual__name="Lee Yanghee")
    # The start of the day in the letter's time zone (New York, UTC-4 in September).
    assert lee.signed_at == dt.datetime(2023, 9, 3, 4, tzinfo=dt.UTC)
    assert lee.individual.sort_name == "Lee Yanghee"
    assert lee.individual.email == "lee@example.org"
    assert lee.individual.country == "KR"
    amnesty = Organization.objects.get(name="Amnesty International")
    assert (amnesty.acronym, amnesty.country.code, amnesty.website) == ("AI", "GB", "https://amnesty.org")
    assert Individual.objects.get(name="Tomás Ojea-Quintana").country == "AR"
    # On the list of the day in the file, not the day before.
    assert len(Roster(letter, dt.date(2023, 9, 2)).entries()) == 2
    assert len(Roster(letter, dt.date(2023, 9, 1)).entries()) == 1


def test_a_file_with_three_bad_rows_stores_nothing_and_names_each_line(tmp_path, letter):
    make_organization("Existing Organization")
    before = (Signature.objects.count(), Individual.objects.count(), Organization.objects.count())
    text = (
        HEADER
        + "individual,Good Person,,,,2023-09-01,,,\n"  # line 2
        + "person,Bad Type,,,,2023-09-01,,,\n"  # line 3
        + "organization,Good Org,,GO,FR,2023-09-01,,,\n"  # line 4
        + "individual,Bad Country,,,Narnia,2023-09-01,,,\n"  # line 5
        + "organization,Bad Day,,,,21st of Sept,,,\n"  # line 6
    )
    err = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was imported: 3 errors"):
        call_command("import_signatures", letter.slug, str(write(tmp_path, text)), stderr=err)

    assert (Signature.objects.count(), Individual.objects.count(), Organization.objects.count()) == before
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Line 3:") and "individual" in lines[0]
    assert lines[1].startswith("Line 5:") and "Narnia" in lines[1]
    assert lines[2].startswith("Line 6:") and "YYYY-MM-DD" in lines[2]


def test_a_day_before_any_letter_is_refused_with_its_line(tmp_path):
    letter = make_letter(slug="new-york", timezone="America/New_York")
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command(
            "import_signatures",
            letter.slug,
            str(write(tmp_path, HEADER + "individual,Early Bird,,,,0001-01-01,,,\n")),
            stderr=err,
        )
    assert "Line 2:" in err.getvalue() and "0001-01-01 is too early" in err.getvalue()
    assert not Signature.objects.filter(letter=letter).exists()


def test_an_xlsx_file_imports_like_a_csv(tmp_path, letter):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["type", "name", "title", "acronym", "country", "signed_on"])
    usa, day = "United States of America", dt.datetime(2023, 9, 5)
    sheet.append(["organization", "Human Rights Watch", None, "HRW", usa, day])
    sheet.append(["individual", "Ana Pérez", "Lawyer", None, "AR", "2023-09-06"])
    path = tmp_path / "signatures.xlsx"
    workbook.save(path)

    assert "Imported 2 signatures" in run_import(letter, path)

    entries = Roster(letter).entries()
    assert {(e.name, e.country, e.signed_on) for e in entries} == {
        ("Human Rights Watch", "United States of America", dt.date(2023, 9, 5)),
        ("Ana Pérez", "Argentina", dt.date(2023, 9, 6)),
    }


def test_existing_individuals_and_organizations_are_reused(tmp_path, letter):
    amnesty = make_organization("Amnesty International", acronym="AI", country="GB")
    hrw = make_organization("Human Rights Watch", acronym="HRW", country="US")
    lee = make_individual("Lee Yanghee", email="Lee.Y@Gmail.com")
    text = (
        HEADER
        + "organization,AMNESTY  international,,,,2023-09-01,,,\n"  # same name but for case and spaces
        + "organization,H.R.W. (renamed),,hrw,US,2023-09-01,,,\n"  # same acronym and country
        + "individual,Y. Lee,,,,2023-09-01,leey@gmail.com,,\n"  # same mailbox
    )

    run_import(letter, write(tmp_path, text))

    assert Organization.objects.count() == 2 and Individual.objects.count() == 1
    signed = set(Signature.objects.filter(letter=letter).values_list("organization", "individual"))
    assert signed == {(amnesty.pk, None), (hrw.pk, None), (None, lee.pk)}
    lee.refresh_from_db()
    assert lee.name == "Lee Yanghee"  # a file never renames a record on file


def test_an_equal_name_elsewhere_is_flagged_never_merged(tmp_path, letter):
    # The same name as someone who signed another letter is near, not the same person.
    nameless = make_individual("Tomás Ojea-Quintana")
    text = HEADER + "individual,Tomas Ojea Quintana,,,,2023-09-01,,,\n"

    run_import(letter, write(tmp_path, text))

    [signature] = Signature.objects.filter(letter=letter)
    assert signature.individual != nameless
    resource = SignatureImportResource(letter=make_letter())
    result = resource.import_data(tablib.Dataset().load(text, format="csv"), dry_run=True)
    [row] = result.rows
    assert f"possibly the same as #{nameless.pk}" in str(row.diff)


def test_a_row_without_email_naming_someone_on_the_letter_is_that_person(tmp_path, client, letter):
    # Issue #10, 5: "Samuel Abebe" without e-mail, on a letter he signed online, was imported a second time.
    samuel = make_individual("Samuel Abebe", email="samuel@example.org")
    online = signature_row(letter, samuel, source=Signature.Source.FORM, contact_email="samuel@example.org")
    text = HEADER + "individual,SAMUEL  ABEBE,,,,2023-09-01,,,\n"

    resource = SignatureImportResource(letter=letter)
    result = resource.import_data(tablib.Dataset().load(text, format="csv"), dry_run=True)
    [row] = result.rows
    assert f"already on this letter as #{online.pk}, signed online" in str(row.diff)

    run_import(letter, write(tmp_path, text))

    assert Signature.objects.filter(letter=letter).count() == 1
    assert client.get("/letters/civic-space/?as_of=2023-09-21").content.decode().count("Samuel Abebe") == 1


def test_a_signatory_already_on_the_letter_is_skipped_not_doubled(tmp_path, letter):
    amnesty = make_organization("Amnesty International")
    signature_row(letter, amnesty)

    text = HEADER + "organization,Amnesty International,,,,2023-09-01,,,\n"
    summary = run_import(letter, write(tmp_path, text))

    assert "Imported 0 signatures" in summary and "skipped 1" in summary
    # As the admin says it: the command's summary left out the rows a file marks as not listed.
    assert "not on the list in the file" in summary
    assert Signature.objects.filter(letter=letter).count() == 1


def test_the_same_signatory_twice_in_one_file_is_an_error(tmp_path, letter):
    text = HEADER + "organization,New Org,,,,2023-09-01,,,\n" + "organization,new org,,,,2023-09-02,,,\n"
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_signatures", letter.slug, str(write(tmp_path, text)), stderr=err)
    assert "Line 3: the same organization as line 2" in err.getvalue()
    assert not Organization.objects.exists()


def test_escaped_formula_cells_are_read_back_as_written(tmp_path, letter):
    run_import(letter, write(tmp_path, HEADER + "individual,'=Not A Formula,'-dash title,,,2023-09-01,,,\n"))
    individual = Individual.objects.get()
    assert (individual.name, individual.title) == ("=Not A Formula", "-dash title")


def test_a_missing_column_is_reported_before_any_row(tmp_path, letter):
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_signatures", letter.slug, str(write(tmp_path, "name\nSomeone\n")), stderr=err)
    # Without a type column every row is an individual; the other missing ones are all named, no row read.
    assert err.getvalue().splitlines() == [
        "Line 1 (the column names) has no “signed_on” column. Name the columns in the first line (type, "
        "name, title, acronym, country, signed_on, email, family_name, sort_name, website), or say which "
        "column of the file is which."
    ]


def test_an_unknown_letter_or_a_wrong_file_type_is_a_clear_error(tmp_path, letter):
    with pytest.raises(CommandError, match="No letter"):
        call_command("import_signatures", "nope", str(write(tmp_path, GOOD)))
    with pytest.raises(CommandError, match=r"\.csv or \.xlsx"):
        call_command("import_signatures", letter.slug, str(write(tmp_path, GOOD, name="list.pdf")))


# -- the admin -------------------------------------------------------------------


def upload(staff_client, letter, text: str, name: str = "signatures.csv"):
    return staff_client.post(
        "/admin/letters/signature/import/",
        {
            "letter": letter.pk,
            "resource": "0",
            "format": "0",  # CSV
            "import_file": SimpleUploadedFile(name, text.encode("utf-8-sig")),
        },
    )


def test_the_admin_previews_then_imports_on_confirmation(staff_client, letter):
    preview = upload(staff_client, letter, GOOD)

    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Lee Yanghee" in html and "Confirm import" in html
    assert not Signature.objects.exists()  # a preview stores nothing

    confirm_form = preview.context["confirm_form"]
    data = {name: confirm_form.initial[name] for name in confirm_form.fields}
    done = staff_client.post("/admin/letters/signature/process_import/", data)

    assert done.status_code == 302
    assert Signature.objects.filter(letter=letter, source=Signature.Source.IMPORT).count() == 3
    assert LogEntry.objects.filter(content_type__model="signature").count() == 3
    assert Signature.objects.filter(approved_by__username="organizer").count() == 3


def test_the_admin_lists_every_bad_line_and_offers_no_confirmation(staff_client, letter):
    text = HEADER + "individual,,,,,2023-09-01,,,\n" + "individual,Fine,,,,2023-09-01,,,\n" + "x,Y,,,,,,,\n"

    response = upload(staff_client, letter, text)

    html = response.content.decode()
    assert "Confirm import" not in html
    assert "Line 2: The name is empty." in html
    assert "Line 4: Type must be" in html
    assert not Signature.objects.exists() and not Individual.objects.exists()


def test_the_import_form_needs_a_letter(staff_client, letter):
    response = staff_client.post(
        "/admin/letters/signature/import/",
        {"resource": "0", "format": "0", "import_file": SimpleUploadedFile("s.csv", GOOD.encode())},
    )
    assert response.status_code == 200
    assert "letter" in response.context["form"].errors
    assert not Signature.objects.exists()


def test_overlong_cells_are_row_errors_not_crashes(tmp_path, letter):
    text = HEADER + f"individual,Someone,,,,2023-09-01,,{'x' * 300},\n"
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_signatures", letter.slug, str(write(tmp_path, text)), stderr=err)
    assert "Line 2: The sort name is longer than 200 characters." in err.getvalue()


def test_a_dry_run_reports_and_stores_nothing(tmp_path, letter):
    out = io.StringIO()
    call_command("import_signatures", letter.slug, str(write(tmp_path, GOOD)), "--dry-run", stdout=out)
    assert "Would import 3 signatures" in out.getvalue()
    assert not Signature.objects.exists() and not Individual.objects.exists()


def test_the_preview_names_the_existing_record_each_row_will_use(staff_client, letter):
    amnesty = make_organization("Amnesty International", acronym="AI")
    html = upload(staff_client, letter, GOOD).content.decode()
    assert f"existing organization #{amnesty.pk}" in html
    assert "new individual" in html


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ("individual,\u200b,", "Line 3: Enter a name with at least one letter."),
        ("organization,- - -,", "Line 3: Enter a name with at least one letter."),
        ("individual,\u202eLanoitanretni ytsenmA,", "Line 3: Write this on one line"),
        ("individual,Ana Pérez,Professor\u202eevil", "Line 3: Write this on one line"),
        ("individual,Ana\uffff,", "Line 3: Write this on one line"),
        ("individual,Grace Imp\u200borted,", "Line 3: Write this on one line"),
    ],
)
def test_a_name_the_public_form_refuses_is_refused_with_its_line(staff_client, letter, cells, message):
    # The rule of a printed line is the public form's (signatories.normalize), not just "not empty".
    text = HEADER + "individual,Fine Person,,,,2023-09-01,,,\n" + cells + ",,,2023-09-01,,,\n"

    html = upload(staff_client, letter, text).content.decode()

    assert "Confirm import" not in html
    assert message in html
    assert not Signature.objects.exists()


def test_a_column_named_twice_is_refused_before_any_row(staff_client, letter):
    # First name and family name both headed "name": the importer read the last one only.
    text = "type,Name,name ,signed_on\nindividual,Ana,Bob,2023-09-01\n"

    html = upload(staff_client, letter, text).content.decode()

    assert "Confirm import" not in html
    assert "The file has more than one “name” column." in html
    assert not Signature.objects.exists() and not Individual.objects.exists()


def test_a_file_that_is_not_utf8_says_how_to_save_it(staff_client, letter):
    # Excel's plain "CSV" is Windows-1252 on many machines: "Pérez" is one byte 0xE9.
    content = (HEADER + "individual,Ana Pérez,,,,2023-09-01,,,\n").encode("latin-1")

    response = staff_client.post(
        "/admin/letters/signature/import/",
        {
            "letter": letter.pk,
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile("s.csv", content),
        },
    )

    assert response.context["form"].errors["import_file"] == [
        "Save the file as UTF-8 (CSV UTF-8 in Excel) and import it again."
    ]
    assert "UnicodeDecodeError" not in response.content.decode()
    assert not Signature.objects.exists()


@pytest.mark.parametrize("country", ["12", "012", "410"])
def test_a_number_in_the_country_column_is_refused_not_read_as_an_iso_numeric_code(tmp_path, letter, country):
    # "12" is Algeria's numeric code, but in a sign-on sheet it is far more likely a shifted column.
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_signatures",
            letter.slug,
            str(write(tmp_path, HEADER + f"individual,Ana Pérez,,,{country},2023-09-01,,,\n")),
            stderr=err,
        )
    assert f"Line 2: “{country}” is neither a country code (KR) nor an English country name" in err.getvalue()
    assert not Individual.objects.exists()


def test_three_letter_codes_are_read(tmp_path, letter):
    run_import(letter, write(tmp_path, HEADER + "individual,Ana Pérez,,,kor,2023-09-01,,,\n"))
    assert Individual.objects.get().country == "KR"


def test_the_staff_export_imports_again_without_its_unlisted_signatures(staff_client, letter):
    # README: an export imports again. Its rejected, waiting, withdrawn and erased rows are not
    # on the list: they are skipped, and the preview says which line and why.
    from letters import lifecycle

    day = dt.datetime(2023, 9, 1, 16, tzinfo=dt.UTC)
    signature_row(letter, make_individual("Ana Pérez"), signed_at=day)
    signature_row(
        letter,
        make_individual("Fake Impostor"),
        signed_at=day,
        status=Signature.Status.REJECTED,
        confirmed_at=day,
        rejected_at=day,
        rejection_reason="impostor",
    )
    signature_row(letter, make_individual("Cy Waiting"), status=Signature.Status.CONFIRMED, confirmed_at=day)
    signature_row(
        letter, make_individual("Bob Withdrew"), signed_at=day, withdrawn_at=day + dt.timedelta(days=1)
    )
    lifecycle.signature_erase(signature=signature_row(letter, make_individual("Carol Erased"), signed_at=day))
    second = make_letter(slug="second-edition")

    preview = upload(staff_client, second, export(staff_client, 0).decode("utf-8-sig"))

    html = preview.content.decode()
    assert "Confirm import" in html
    assert html.count("not imported") == 4
    assert "rejected in the file’s status column" in html
    assert "confirmed, awaiting approval in the file’s status column" in html
    assert html.count("withdrawn or erased in the file (withdrawn_at)") == 2
    confirm_form = preview.context["confirm_form"]
    staff_client.post(
        "/admin/letters/signature/process_import/",
        {name: confirm_form.initial[name] for name in confirm_form.fields},
    )
    assert [entry.name for entry in Roster(second, second.today()).entries()] == ["Ana Pérez"]
    assert Signature.objects.filter(letter=second).count() == 1


def test_a_status_the_export_never_writes_is_refused_with_its_line(staff_client, letter):
    text = "type,name,signed_on,status\nindividual,Ana Pérez,2023-09-01,aproved\n"

    html = upload(staff_client, letter, text).content.decode()

    assert "Confirm import" not in html
    assert "Line 2: “aproved” is not a status of the staff export" in html


@pytest.mark.parametrize("claim_status", [Signature.Status.REJECTED, Signature.Status.CONFIRMED])
def test_an_organization_whose_web_claim_was_rejected_or_awaits_approval_is_imported(
    tmp_path, letter, claim_status
):
    # docs/design.md: a rejected claim on an organization does not swallow later ones. The organizer's
    # sheet had Amnesty International; an impostor's claim from the form made the import skip it.
    amnesty = make_organization("Amnesty International", acronym="AI", country="GB")
    claim = signature_row(
        letter, amnesty, status=claim_status, source=Signature.Source.FORM, rejection_reason="impostor"
    )
    text = HEADER + "organization,Amnesty International,,AI,GB,2023-09-01,,,\n"

    result = SignatureImportResource(letter=letter).import_data(
        tablib.Dataset().load(text, format="csv"), dry_run=True
    )
    [row] = result.rows
    assert row.import_type == "new"
    assert f"claim #{claim.pk} (signed online, {claim.get_status_display().lower()}) stays as it is" in str(
        row.diff
    )

    assert "Imported 1 signatures" in run_import(letter, write(tmp_path, text))
    assert [entry.name for entry in Roster(letter, dt.date(2023, 9, 1)).entries()] == [
        "Amnesty International"
    ]
    claim.refresh_from_db()
    assert claim.status == claim_status


@pytest.mark.parametrize(
    "fields",
    [
        {"withdrawn_at": dt.datetime(2023, 9, 5, tzinfo=dt.UTC)},
        {
            "status": Signature.Status.CONFIRMED,
            "signed_at": None,
            "withdrawn_at": dt.datetime(2023, 9, 5, tzinfo=dt.UTC),
        },
    ],
)
def test_an_organization_that_withdrew_is_not_listed_again_by_an_import(tmp_path, letter, fields):
    amnesty = make_organization("Amnesty International")
    signature_row(letter, amnesty, source=Signature.Source.FORM, **fields)

    summary = run_import(
        letter, write(tmp_path, HEADER + "organization,Amnesty International,,,,2023-09-10,,,\n")
    )

    assert "Imported 0 signatures" in summary
    assert Signature.objects.filter(letter=letter).count() == 1


def xlsx(rows: list, *, write_only: bool = False, merge: str = "") -> bytes:
    workbook = openpyxl.Workbook(write_only=write_only)
    sheet = workbook.create_sheet() if write_only else workbook.active
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    content = io.BytesIO()
    workbook.save(content)
    return content.getvalue()


def upload_file(staff_client, letter, content: bytes, name: str):
    return staff_client.post(
        "/admin/letters/signature/import/",
        {
            "letter": letter.pk,
            "resource": "0",
            "format": "1" if name.endswith(".xlsx") else "0",
            "import_file": SimpleUploadedFile(name, content),
        },
    )


def test_a_csv_saved_by_excel_with_semicolons_imports(tmp_path, staff_client, letter):
    # Excel writes ";" between cells where a comma is the decimal sign (France, Germany, Brazil...):
    # the import said the file had no "type", "name" or "signed_on" column, though it had all three.
    text = "type;name;title;signed_on\nindividual;Ana Pérez;Lawyer, Buenos Aires;2023-09-01\n"

    preview = upload(staff_client, letter, text)
    assert "Confirm import" in preview.content.decode()

    assert "Imported 1 signatures" in run_import(letter, write(tmp_path, text))
    assert Individual.objects.get().title == "Lawyer, Buenos Aires"


def test_an_empty_line_in_a_csv_counts_in_the_line_numbers(staff_client, letter):
    # A spreadsheet shows an empty line as a row: the error named line 3 for the row on line 4.
    text = HEADER + "individual,Ana Pérez,,,,2023-09-01,,,\n\nindividual,Bad Day,,,,21/9,,,\n"

    html = upload(staff_client, letter, text).content.decode()

    assert "Line 4: “21/9” is not a day" in html


def test_an_xlsx_whose_rows_are_not_all_as_wide_as_its_header_imports(staff_client, letter):
    # A workbook that does not state its size (written by a script or a web tool) had rows as long
    # as their last filled cell: the import said "'InvalidDimensions' encountered while trying to read file".
    content = xlsx(
        [
            ["type", "name", "title", "acronym", "country", "signed_on", "email"],
            ["individual", "Ana Pérez", None, None, "AR", dt.datetime(2023, 9, 1)],
            ["organization", "Human Rights Watch", None, "HRW", "US", "2023-09-02", "press@hrw.org"],
        ],
        write_only=True,
    )

    preview = upload_file(staff_client, letter, content, "signatures.xlsx")

    assert "InvalidDimensions" not in preview.content.decode()
    confirm_form = preview.context["confirm_form"]
    staff_client.post(
        "/admin/letters/signature/process_import/",
        {name: confirm_form.initial[name] for name in confirm_form.fields},
    )
    assert [entry.name for entry in Roster(letter, dt.date(2023, 9, 2)).entries()] == [
        "Ana Pérez",
        "Human Rights Watch",
    ]


def test_a_name_under_a_header_cell_merged_over_two_columns_is_refused_not_cut(staff_client, letter):
    # "name" merged over the first-name and family-name columns: the family names, in a column with
    # no header of its own, were dropped without a word and "Ana" was listed for "Ana Pérez".
    content = xlsx(
        [["type", "name", None, "signed_on"], ["individual", "Ana", "Pérez", dt.datetime(2023, 9, 1)]],
        merge="B1:C1",
    )

    html = upload_file(staff_client, letter, content, "signatures.xlsx").content.decode()

    assert "Confirm import" not in html
    assert "Column C has no name on line 1, but line 2 has “Pérez” in it" in html
    assert not Individual.objects.exists()


def test_a_csv_line_with_an_unquoted_comma_in_a_name_says_so(tmp_path, letter):
    text = "type,name,signed_on\nindividual,Ana Pérez,2023-09-01\nindividual,Pérez, Ana,2023-09-01\n"
    err = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_signatures", letter.slug, str(write(tmp_path, text)), stderr=err)

    assert "Column D has no name on line 1, but line 3 has “2023-09-01” in it" in err.getvalue()
    assert "a name with a comma needs double quotes" in err.getvalue()
    assert not Individual.objects.exists()


@pytest.mark.parametrize(
    ("country", "code"),
    [
        ("United States", "US"),
        ("the United States", "US"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("Republic of Korea", "KR"),
        ("São Tomé and Príncipe", "ST"),
        ("Côte d’Ivoire", "CI"),
        ("Ivory Coast", "CI"),
        ("The Gambia", "GM"),
        ("Trinidad & Tobago", "TT"),
        ("Democratic Republic of Congo", "CD"),
    ],
)
def test_a_country_written_as_people_write_it_in_english_is_read(tmp_path, letter, country, code):
    # "United States" or "UK" were refused as "neither a country code nor an English country name".
    run_import(letter, write(tmp_path, HEADER + f'individual,Ana Pérez,,,"{country}",2023-09-01,,,\n'))
    assert Individual.objects.get().country == code


@pytest.mark.parametrize("status", [Signature.Status.PENDING, Signature.Status.REJECTED])
def test_a_strangers_unconfirmed_claim_to_a_name_never_keeps_the_named_person_off_the_list(
    tmp_path, letter, status
):
    # A stranger signs "John Victim" with their own address and never confirms (or staff reject it):
    # the import of the real John Victim, without an e-mail, was skipped as "already on this letter".
    stranger = make_individual("John Victim", email="stranger@example.net")
    claim = signature_row(
        letter, stranger, status=status, source=Signature.Source.FORM, contact_email="stranger@example.net"
    )
    text = HEADER + "individual,John Victim,Bishop of Veltrana,,,2023-09-01,,,\n"

    resource = SignatureImportResource(letter=letter)
    result = resource.import_data(tablib.Dataset().load(text, format="csv"), dry_run=True)
    [row] = result.rows
    assert "already on this letter" not in str(row.diff)
    assert f"possibly the same as #{stranger.pk}" in str(row.diff)

    run_import(letter, write(tmp_path, text))

    imported = Signature.objects.exclude(pk=claim.pk).get(letter=letter)
    assert imported.status == Signature.Status.APPROVED
    assert imported.individual != stranger
    assert imported.individual.title == "Bishop of Veltrana"
    stranger.refresh_from_db()
    assert stranger.title == ""  # nothing the file says lands on the stranger's record


GOOGLE_FORM = (
    "Timestamp,Email address,Full name,Organisation,Country\n"
    "9/15/2023 14:03:22,ana@example.org,Ana Pérez,Amnesty,Korea\n"
    "9/16/2023 08:00:01,lee@example.org,Lee Yanghee,,ROK\n"
    "9/17/2023 10:00:00,sam@example.org,Sam Roe,,USA\n"
)


def test_a_google_form_export_imports_as_it_is(tmp_path, letter):
    run_import(letter, write(tmp_path, GOOGLE_FORM))

    people = {
        s.individual.name: s for s in Signature.objects.filter(letter=letter).select_related("individual")
    }
    assert sorted(people) == ["Ana Pérez", "Lee Yanghee", "Sam Roe"]
    assert people["Ana Pérez"].individual.title == "Amnesty"
    assert [people[n].individual.country.code for n in ("Ana Pérez", "Lee Yanghee", "Sam Roe")] == [
        "KR",
        "KR",
        "US",
    ]
    assert letter.local_date(people["Ana Pérez"].signed_at) == dt.date(2023, 9, 15)


@pytest.mark.parametrize(("dates", "day"), [("dmy", dt.date(2023, 10, 9)), ("mdy", dt.date(2023, 9, 10))])
def test_a_day_that_reads_two_ways_follows_the_files_choice(tmp_path, letter, dates, day):
    path = write(tmp_path, "Timestamp,Full name\n9/10/2023,Ana Pérez\n")
    with pytest.raises(CommandError):
        run_import(letter, path)  # no choice: refused, with both readings
    call_command("import_signatures", letter.slug, str(path), dates=dates, stdout=io.StringIO())
    assert letter.local_date(Signature.objects.get(letter=letter).signed_at) == day


def test_a_day_that_reads_two_ways_without_a_choice_names_both_and_the_line(tmp_path, letter):
    err = io.StringIO()
    path = write(tmp_path, "Timestamp,Full name\n15/09/2023,Ann Roe\n9/10/2023,Ana Pérez\n")
    with pytest.raises(CommandError):
        call_command("import_signatures", letter.slug, str(path), stdout=io.StringIO(), stderr=err)
    assert (
        "Line 3: “9/10/2023” is 9 October 2023 day-first or 10 September 2023 month-first" in err.getvalue()
    )


def test_columns_named_otherwise_are_taken_as_the_command_is_told(tmp_path, letter):
    path = write(tmp_path, "Signatory,Affil,When\nAna Pérez,Amnesty,2023-09-15\n")
    call_command(
        "import_signatures",
        letter.slug,
        str(path),
        columns="Signatory=name,Affil=title,When=signed_on",
        stdout=io.StringIO(),
    )
    assert Signature.objects.get(letter=letter).individual.title == "Amnesty"


def test_a_near_duplicate_inside_the_file_is_flagged_in_the_preview(letter):
    rows = tablib.Dataset(headers=["type", "name", "signed_on", "email"])
    rows.append(["individual", "Ana Pérez", "2023-09-01", "ana@example.org"])
    rows.append(["individual", "Ana Perez", "2023-09-01", "ana.perez@example.net"])
    result = SignatureImportResource(letter=letter).import_data(
        rows,
        dry_run=True,
        retain_instance_in_row_result=True,  # as the admin's preview asks
    )
    assert "possibly the same as line 2 of this file" in result.rows[1].instance._import_match

"""An import reads and writes its rows a batch at a time: the same queries for a batch of any size."""

import datetime as dt

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from import_export import resources

from letters.lifecycle.entry import entries_errors, entry_errors
from letters.models import Signature
from letters.spreadsheets.resources import IMPORT_COLUMNS, PreviewDiff, SignatureImportResource
from signatories.models import Individual, Organization
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db


# The rows below give these columns (a file need not have every optional one).
COLUMNS = [column for column in IMPORT_COLUMNS if column != "family_name"]


def mixed_rows(prefix: str, count: int) -> tablib.Dataset:
    """
    `count` rows of every kind a batch holds: a new person, a new
    organization, a person and an organization on file (matched and filled in),
    a person already on another letter.
    """
    make_individual(f"{prefix} Known Person", email=f"{prefix.lower()}.known@example.org")
    make_organization(f"{prefix} Known Union", country="FR")
    rows = tablib.Dataset(headers=COLUMNS)
    rows.append(["individual", f"{prefix} Known Person", "", "", "", "2023-09-01", "", "", ""])
    rows.append(["organization", f"{prefix} Known Union", "", "KU", "", "2023-09-01", "", "", ""])
    for n in range(count - 2):
        if n % 2:
            rows.append(["organization", f"{prefix} Union {n}", "", "", "FR", "2023-09-01", "", "", ""])
        else:
            email = f"{prefix.lower()}{n}@example.org"
            rows.append(
                ["individual", f"{prefix} Person {n}", "Member", "", "FR", "2023-09-01", email, "", ""]
            )
    return rows


def queries_of_import(batch: int, *, dry_run: bool = False) -> int:
    letter = make_letter()
    rows = mixed_rows(f"P{batch}", batch)
    # The known person matched by name on this letter, too.
    resource = SignatureImportResource(letter=letter, batch_size=batch)
    with CaptureQueriesContext(connection) as queries:
        result = resource.import_data(rows, dry_run=dry_run, raise_errors=True)
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["new"] == batch
    return len(queries)


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "preview"])
def test_it_costs_the_same_queries_for_a_batch_of_ten_rows_or_of_forty(dry_run):
    assert queries_of_import(10, dry_run=dry_run) == queries_of_import(40, dry_run=dry_run)


def test_it_costs_a_few_queries_a_batch_not_a_few_a_row(django_assert_max_num_queries):
    letter = make_letter()
    rows = mixed_rows("Q", 120)
    with django_assert_max_num_queries(3 * 20):  # three batches of 40 rows
        SignatureImportResource(letter=letter, batch_size=40).import_data(rows, raise_errors=True)
    assert Signature.objects.filter(letter=letter, status=Signature.Status.APPROVED).count() == 120


def test_rows_in_several_batches_keep_the_identity_rule_and_all_or_nothing():
    letter = make_letter()
    on_letter = make_individual("Ann Roe")
    signature_row(letter, on_letter, source=Signature.Source.STAFF)
    rows = tablib.Dataset(headers=COLUMNS)
    for n in range(5):
        rows.append(["individual", f"Person {n}", "", "", "", "2023-09-01", f"p{n}@example.org", "", ""])
    rows.append(["individual", "Ann Roe", "", "", "", "2023-09-01", "", "", ""])  # on the letter: skipped
    rows.append(
        ["individual", "Person 1", "", "", "", "2023-09-01", "P1@Example.org", "", ""]
    )  # line 3 again

    result = SignatureImportResource(letter=letter, batch_size=2).import_data(rows)

    assert [str(error) for row in result.invalid_rows for error in row.error_dict["name"]] == [
        "Line 8: the same individual as line 3 of this file."
    ]
    assert Signature.objects.filter(letter=letter).count() == 1
    assert Individual.objects.count() == 1 and not Organization.objects.exists()

    del rows[6]
    result = SignatureImportResource(letter=letter, batch_size=2).import_data(rows)
    assert result.totals == {**result.totals, "new": 5, "skip": 1}
    assert Signature.objects.filter(letter=letter, source=Signature.Source.IMPORT).count() == 5


# -- the admin's preview and confirmation -------------------------------------------


def admin_queries(client, letter, rows: int, batch: int, monkeypatch) -> tuple[int, int]:
    """The queries of the admin's preview and of its confirmation, for `rows` new people."""
    monkeypatch.setattr(SignatureImportResource._meta, "batch_size", batch)
    lines = "".join(
        f"individual,Person {n} of {rows},2023-09-01,p{n}.{rows}@example.org\n" for n in range(rows)
    )
    upload = SimpleUploadedFile("signatures.csv", f"type,name,signed_on,email\n{lines}".encode())
    form = {"letter": letter.pk, "resource": "0", "format": "0", "import_file": upload}
    with CaptureQueriesContext(connection) as preview:
        response = client.post("/admin/letters/signature/import/", form)
    assert response.status_code == 200 and response.context["confirm_form"] is not None
    confirm_form = response.context["confirm_form"]
    fields = {name: confirm_form.initial[name] for name in confirm_form.fields}
    with CaptureQueriesContext(connection) as confirm:
        response = client.post("/admin/letters/signature/process_import/", fields)
    assert response.status_code == 302
    assert Signature.objects.filter(letter=letter).count() == rows
    return len(preview), len(confirm)


def test_the_admins_preview_and_confirmation_cost_the_same_queries_for_twice_the_rows(
    staff_client, monkeypatch
):
    admin_queries(staff_client, make_letter(), 1, 1, monkeypatch)  # what Django reads once (content types)
    # Two batches either way: of 10 rows, then of 20.
    assert admin_queries(staff_client, make_letter(), 20, 10, monkeypatch) == admin_queries(
        staff_client, make_letter(), 40, 20, monkeypatch
    )


def test_the_admins_preview_and_confirmation_cost_a_few_queries_a_batch(staff_client, monkeypatch):
    one_batch = admin_queries(staff_client, make_letter(), 40, 40, monkeypatch)
    four_batches = admin_queries(staff_client, make_letter(), 40, 10, monkeypatch)
    preview, confirm = (many - one for many, one in zip(four_batches, one_batch, strict=True))
    # Three batches more: a look-up of who the rows are, then a savepoint, the people, their
    # signatures, the letter's roster_version and the savepoint's release.
    assert preview <= 3 * 8
    assert confirm <= 3 * 8


def test_an_import_leaves_the_options_of_the_next_as_they_were(letter):
    """import_export's import_row set `store_instance` on the class's options: one import changed the next."""
    rows = tablib.Dataset(headers=["type", "name", "signed_on"])
    rows.append(["individual", "Ana Pérez", "2023-09-01"])
    SignatureImportResource(letter=letter).import_data(rows, dry_run=True, retain_instance_in_row_result=True)

    result = SignatureImportResource(letter=letter).import_data(rows, dry_run=True)

    assert result.rows[0].instance is None  # not kept: the command's 20,000 rows need not stay in memory
    assert (
        SignatureImportResource._meta.store_instance is False and not SignatureImportResource._meta.skip_diff
    )


def test_a_batchs_entry_checks_say_what_entry_errors_says_of_each_row(django_assert_max_num_queries):
    """One rule: `entries_errors` (an import's batch) and `entry_errors` (staff's one) agree."""
    letter = make_letter()
    sept = dt.datetime(2023, 9, 10, tzinfo=dt.UTC)
    before, after = sept - dt.timedelta(days=5), sept + dt.timedelta(days=5)
    entries = [(Individual(name="New Person"), sept), (make_individual("On File"), sept)]
    erased = make_individual("Erased signatory #1")
    erased.forgotten_at = sept
    entries.append((erased, sept))
    for status, withdrawn_at, source in [
        (Signature.Status.APPROVED, None, Signature.Source.STAFF),
        (Signature.Status.APPROVED, before, Signature.Source.STAFF),
        (Signature.Status.APPROVED, after, Signature.Source.STAFF),
        (Signature.Status.REJECTED, None, Signature.Source.STAFF),
        (Signature.Status.PENDING, None, Signature.Source.FORM),
    ]:
        for make in (make_individual, make_organization):
            signatory = make()
            signed = sept - dt.timedelta(days=20) if status == Signature.Status.APPROVED else None
            signature_row(letter, signatory, signed, status=status, withdrawn_at=withdrawn_at, source=source)
            entries.append((signatory, sept))
    entries.append((make_individual("Too Late"), timezone.now() + dt.timedelta(days=1)))

    with django_assert_max_num_queries(2):  # the people's signatures, the organizations'
        batch = entries_errors(letter, entries)

    assert batch[0] == {}  # a new record: on no list yet
    assert batch[1:] == [entry_errors(letter, signatory, signed_at) for signatory, signed_at in entries[1:]]
    assert sum(bool(errors) for errors in batch) >= 6  # what the cases above refuse


def test_the_preview_writes_nothing_it_would_only_roll_back(staff_client, letter):
    lines = "".join(f"individual,Person {n},2023-09-01,p{n}@example.org\n" for n in range(30))
    upload = SimpleUploadedFile("signatures.csv", f"type,name,signed_on,email\n{lines}".encode())
    form = {"letter": letter.pk, "resource": "0", "format": "0", "import_file": upload}

    with CaptureQueriesContext(connection) as queries:
        response = staff_client.post("/admin/letters/signature/import/", form)

    assert response.status_code == 200 and response.context["confirm_form"] is not None
    assert "Person 29" in response.content.decode()
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]
    assert not [sql for sql in writes if "letters_" in sql or "signatories_" in sql]


@pytest.mark.parametrize(
    ("blank", "value"),
    [
        ("", ""),
        ("", "Ana Pérez"),
        ("individual", "individual"),
        ("individual", "organization"),
        ("", "A & <b>\nc"),
    ],
)
def test_the_preview_shows_each_value_as_import_export_would(blank, value):
    """PreviewDiff writes the HTML of a new row's value itself, as the library's diff_match_patch does."""
    theirs, ours = object.__new__(resources.Diff), object.__new__(PreviewDiff)
    for diff in (theirs, ours):
        diff.left, diff.right, diff.new = [blank], [value], True

    assert ours.as_html() == theirs.as_html()

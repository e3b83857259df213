"""
Spreadsheets of signatures, through django-import-export.

`SignatureImportResource` reads the columns of the press CSV (docs/design.md:
type, name, title, acronym, country, signed_on) plus optional `email`,
`sort_name` and `website` into one letter. Each row becomes an approved
signature (`source=import`, `signed_at` the start of `signed_on` in the
letter's time zone, written by `letters.lifecycle.signature_enter`) of the
individual or organization `signatories.identity` says it is, or of a new one.
A row whose signatory is already on the letter is skipped, and the preview says
so; near names are flagged in the preview, never merged. The import is all or
nothing: any bad row rolls back everything, and every bad row is reported with
its line number.

`SignatureExportResource` is the staff export: the same columns first (so an
export can be imported again), then the private ones. Every text cell of both
goes through `letters.spreadsheets.files.escape_formula`.
"""

import copy
import datetime as dt
import functools
import re
from collections import defaultdict

from dateutil import parser as dateparser
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy
from django_countries import countries
from import_export import resources
from import_export.fields import Field
from openpyxl.utils import get_column_letter

from letters import lifecycle
from letters.lifecycle.entry import entries_errors, signatures_enter
from letters.models import Letter, Signature
from letters.outputs.press import escape_formula, unescape_formula
from letters.rosters import english_country_names
from letters.spreadsheets import batches
from signatories import identity
from signatories.models import Individual, Organization
from signatories.normalize import clean_text, name_key, sort_name_doubtful, tidy_text, xml_text

PRESS_COLUMNS = ["type", "name", "title", "acronym", "country", "signed_on"]
OPTIONAL_COLUMNS = ["email", "family_name", "sort_name", "website"]
IMPORT_COLUMNS = PRESS_COLUMNS + OPTIONAL_COLUMNS
REQUIRED_COLUMNS = ["type", "name", "signed_on"]

# Headers people write for our columns (a Google Form's export: "Timestamp", "Full name", "Email address").
COLUMN_VARIANTS = {
    "full name": "name",
    "your name": "name",
    "email address": "email",
    "e-mail address": "email",
    "e-mail": "email",
    "affiliation": "title",
    "organisation": "title",
    "organization": "title",
    "date": "signed_on",
    "timestamp": "signed_on",
    "sort name": "sort_name",
    "family name": "family_name",
    "surname": "family_name",
}

INDIVIDUAL = "individual"
ORGANIZATION = "organization"
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# A column staff chose to leave out of an import (the admin's column choice, --columns "Notes=ignore").
IGNORED = "ignore"


def our_columns(headers: list[str], columns: dict[str, str] | None = None) -> list[str]:
    """
    Headers (tidied, lower case) renamed to our columns: the choice given
    (`columns`, {"full name": "name"}; "ignore" leaves a column out), then common variants.
    """
    columns = columns or {}
    named = [columns.get(header, header) for header in headers]
    # Left out: a name no row reads (an empty one would be refused as an unnamed column holding data).
    named = [f"{IGNORED}:{index}" if column == IGNORED else column for index, column in enumerate(named)]
    for index, header in enumerate(named):
        column = COLUMN_VARIANTS.get(header)
        if column and column not in named:
            named[index] = column
    return named


def header_keys(headers) -> list[str]:
    """A file's first line as the import compares headers: tidied, lower case."""
    return [clean_text(str(header or "")).lower() for header in headers or []]


def missing_columns(headers: list[str]) -> list[str]:
    """Our columns a file needs and lacks, once renamed (`our_columns`); without `type`, rows are people."""
    return [column for column in REQUIRED_COLUMNS if column not in headers and column != "type"]


def missing_columns_sentence(missing: list[str]) -> str:
    names = gettext(" and no ").join(f"“{column}”" for column in missing)
    return gettext(
        "Line 1 (the column names) has no %(names)s column. Name the columns in the first line "
        "(%(columns)s), or say which column of the file is which."
    ) % {"names": names, "columns": ", ".join(IMPORT_COLUMNS)}


def unrecognized_headers(headers, columns: dict[str, str] | None = None) -> list[str]:
    """
    The headers of a file the import does not know (as written, each once):
    neither one of our columns, a common variant, a column of the staff export,
    nor chosen in `columns`. The admin asks which column each of them is.
    """
    keys = header_keys(headers)
    chosen = dict(zip(header_keys(columns or {}), (columns or {}).values(), strict=True))
    named = our_columns(keys, chosen)
    known = set(IMPORT_COLUMNS) | set(SignatureExportResource.Meta.fields) | set(UNLISTED_COLUMNS)
    found = []
    for header, key, column in zip(headers, keys, named, strict=True):
        ignored = column.startswith(f"{IGNORED}:")
        if (
            key
            and not ignored
            and key not in chosen
            and column not in known
            and str(header).strip() not in found
        ):
            found.append(str(header).strip())
    return found


class EscapedExportMixin:
    """
    Escape every text cell that a spreadsheet would run as a formula. The
    library's IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only strips a leading
    "=", and leaves "+", "-", "@", tab and carriage return alone.
    """

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        # xml_text: a character an XLSX cannot hold (U+FFFF, a control), stored
        # before the forms refused it, is left out rather than failing the export.
        return escape_formula(xml_text(value)) if isinstance(value, str) else value


class SignatureColumnsMixin(resources.Resource):
    """How a signature is written in the press columns and the optional import columns."""

    type = Field(column_name="type", readonly=True)
    name = Field(column_name="name", readonly=True)
    title = Field(column_name="title", readonly=True)
    acronym = Field(column_name="acronym", readonly=True)
    country = Field(column_name="country", readonly=True)
    signed_on = Field(column_name="signed_on", readonly=True)
    email = Field(column_name="email", readonly=True)
    family_name = Field(column_name="family_name", readonly=True)
    sort_name = Field(column_name="sort_name", readonly=True)
    website = Field(column_name="website", readonly=True)

    def dehydrate_type(self, signature: Signature) -> str:
        if signature.organization_id:
            return ORGANIZATION
        return getattr(signature, "_import_kind", INDIVIDUAL)  # a row the import skips

    def dehydrate_name(self, signature: Signature) -> str:
        return signature.signatory.name if signature.signatory else ""

    def dehydrate_title(self, signature: Signature) -> str:
        return signature.individual.title if signature.individual_id else ""

    def dehydrate_acronym(self, signature: Signature) -> str:
        return signature.organization.acronym if signature.organization_id else ""

    def dehydrate_country(self, signature: Signature) -> str:
        signatory = signature.signatory
        return english_country_names().get(signatory.country.code, "") if signatory else ""

    def dehydrate_signed_on(self, signature: Signature) -> str:
        if signature.signed_at is None:
            return ""
        return signature.letter.local_date(signature.signed_at).isoformat()

    def dehydrate_email(self, signature: Signature) -> str:
        if signature.individual_id:
            return signature.individual.email or signature.contact_email
        return signature.contact_email

    def dehydrate_family_name(self, signature: Signature) -> str:
        return signature.individual.family_name if signature.individual_id else ""

    def dehydrate_sort_name(self, signature: Signature) -> str:
        return signature.signatory.sort_name if signature.signatory else ""

    def dehydrate_website(self, signature: Signature) -> str:
        return signature.organization.website if signature.organization_id else ""


class PreviewDiff(resources.Diff):
    """
    The import preview shows each row as it will be stored: read through the
    dehydrate methods. Every row is a new signature, which starts blank
    (`force_init_instance`): the blank values are read once for the file, not
    from a copy of each row's instance, and each value is shown as
    diff_match_patch shows a value that was blank (the library's `as_html`
    diffed them, 0.3 ms a row).
    """

    def __init__(self, resource, instance, new):
        self.left = resource.blank_values()
        self.right = []
        self.new = new

    def compare_with(self, resource, instance):
        self.right = self._values(resource, instance)

    def as_html(self) -> list:
        if not self.new:
            return super().as_html()
        return [_as_diff_html(old, new) for old, new in zip(self.left, self.right, strict=True)]

    @staticmethod
    def _values(resource, instance) -> list:
        # Resource.export_field, not ours: the preview shows the names unescaped.
        return [
            resources.Resource.export_field(resource, field, instance) for field in resource.preview_fields()
        ]


def _as_diff_html(old, new) -> str:
    """
    `resources.Diff.as_html` of one value of a new row: diff_match_patch's
    HTML of `new` as an insertion (what was blank, or is replaced, in a new
    row is shown as blank), or as it was if unchanged.
    """
    old, new = force_str(old), force_str(new)
    if not new:
        return mark_safe("")
    text = new.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "&para;<br>")
    if old == new:
        return mark_safe(f"<span>{text}</span>")  # noqa: S308 - escaped above, as diff_match_patch does
    return mark_safe(f'<ins style="background:#e6ffe6;">{text}</ins>')  # noqa: S308 - escaped above


def _itself(instance, memo=None):
    return instance


class SignatureImportResource(SignatureColumnsMixin, EscapedExportMixin, resources.ModelResource):
    # Shown in the preview only: each row as the list will print it (the name line, the line under
    # it, the country), where the list will sort it, and which existing record it was matched to.
    printed = Field(column_name=gettext_lazy("printed as"), readonly=True)
    sorts_as = Field(column_name=gettext_lazy("sorts as"), readonly=True)
    record = Field(column_name="matched record", readonly=True)

    class Meta:
        model = Signature
        fields = ("printed", "sorts_as", *IMPORT_COLUMNS, "record")
        import_order = fields
        export_order = fields
        # Every row is a new signature: there is nothing to look up by id.
        force_init_instance = True
        # Row-level checks happen in import_instance; the model's own are run there too.
        clean_model_instances = False
        skip_unchanged = False
        report_skipped = True
        # New signatures are written a batch at a time (bulk_create below), not one by one.
        use_bulk = True
        batch_size = batches.BATCH_SIZE

    def __init__(
        self,
        *,
        letter: Letter | None = None,
        batch_size: int | None = None,
        dates: str = "",
        columns: dict[str, str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__()
        self.letter = letter
        # How the file writes its days ("dmy" or "mdy"); none: a day that reads both ways is refused.
        self.dayfirst = DATE_ORDERS.get(dates)
        # Which of our columns a header of the file is ({"full name": "name"}), as staff chose.
        self.columns = {clean_text(header).lower(): column for header, column in (columns or {}).items()}
        self._user = None
        # What each row will do, by its row number (the library's, the header not counted).
        self._planned: dict[int, Planned] = {}
        # The rows to import so far, to report the same signatory twice in one file.
        self._in_file = InFile()
        # One moment for every signature of the file: the list of what it imported filters by it.
        self.imported_at = timezone.now()
        self._blank_values: list | None = None
        if batch_size is not None:
            self._meta = copy.copy(self._meta)
            self._meta.batch_size = batch_size

    @classmethod
    def get_display_name(cls) -> str:
        return "Signatures of one letter"

    def get_user_visible_fields(self):
        return [self.fields[name] for name in IMPORT_COLUMNS]

    def get_diff_class(self):
        return PreviewDiff

    def preview_fields(self) -> list[Field]:
        """The preview's columns: the row as printed and sorted first, then the file's, then the match."""
        return [self.fields[name] for name in self._meta.fields]

    def get_diff_headers(self):
        return [field.column_name for field in self.preview_fields()]

    def dehydrate_printed(self, signature: Signature) -> str:
        signatory = signature.signatory
        if signatory is None:
            return ""
        if signature.organization_id or isinstance(signatory, Organization):
            lines = [signatory.display_name]
        else:
            lines = [signatory.name, signatory.title]
        lines.append(english_country_names().get(signatory.country.code, "") if signatory.country else "")
        return " · ".join(line for line in lines if line)

    def dehydrate_sorts_as(self, signature: Signature) -> str:
        signatory = signature.signatory
        if signatory is None:
            return ""
        # A derived sort name the name makes doubtful says why (signatories.normalize).
        doubt = isinstance(signatory, Individual) and not signatory.sort_name
        reason = doubt and sort_name_doubtful(signatory.name, signatory.family_name)
        sort_name = signatory.effective_sort_name
        return f"{sort_name} (check: {reason})" if reason else sort_name

    def dehydrate_record(self, signature: Signature) -> str:
        return getattr(signature, "_import_match", "")

    # -- the import ----------------------------------------------------------

    def before_import(self, dataset, **kwargs) -> None:
        headers = self._our_columns(header_keys(dataset.headers))
        dataset.headers = headers
        twice = [column for column in dict.fromkeys(headers) if column and headers.count(column) > 1]
        if twice:
            # A row reads a column by its name: of two, it would silently take the last.
            raise ValueError(
                " ".join(f"The file has more than one “{column}” column." for column in twice)
                + " Keep one of each (join a first name and a family name into one “name” column)."
            )
        if unnamed := _unnamed_column_with_data(dataset):
            raise ValueError(unnamed)
        if missing := missing_columns(headers):
            raise ValueError(missing_columns_sentence(missing))
        if "type" not in headers:
            # A sheet of people (a form's export): every row an individual.
            dataset.append_col([INDIVIDUAL] * len(dataset), header="type")
        self._plan(dataset)

    def _our_columns(self, headers: list[str]) -> list[str]:
        """The file's headers renamed to our columns: the choice given (`columns`), then common variants."""
        return our_columns(headers, self.columns)

    def init_instance(self, row=None) -> Signature:
        instance = Signature(letter_id=self.letter.pk, source=Signature.Source.IMPORT, public_consent=True)
        # import_export's import_row deep-copies each row's new instance for its diff, which
        # PreviewDiff does not read (`blank_values`): until import_instance, the copy is itself.
        instance.__dict__["__deepcopy__"] = functools.partial(_itself, instance)
        return instance

    def blank_values(self) -> list:
        """The preview's values of a row's signature before the row is read, the same for every row."""
        if self._blank_values is None:
            blank = Signature(letter_id=self.letter.pk, source=Signature.Source.IMPORT, public_consent=True)
            self._blank_values = PreviewDiff._values(self, blank)
        return self._blank_values

    def import_instance(self, instance: Signature, row, **kwargs) -> None:
        instance.__dict__.pop("__deepcopy__", None)  # copied (or not) by now: a signature like any other
        instance.letter = self.letter  # the row's values are read through it
        planned = self._planned.get(kwargs.get("row_number", 0))
        if planned is None:  # the file was refused as a whole (before_import): no row is read
            instance._import_skip = True
            return
        instance._import_line = planned.line
        if planned.error is not None:
            raise planned.error
        instance._import_kind = planned.kind
        instance._import_match = planned.note
        if planned.signatory is not None:
            setattr(instance, planned.kind, planned.signatory)
        if planned.skip:
            instance._import_skip = True
            return
        instance._import_signatory = planned.signatory
        instance.status = Signature.Status.APPROVED
        instance.signed_at = self.letter.start_of_day(planned.values.signed_on)
        instance.submitted_at = instance.signed_at
        instance.contact_email = planned.values.email

    def skip_row(self, instance, original, row, import_validation_errors=None) -> bool:
        return getattr(instance, "_import_skip", False) and not import_validation_errors

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if errors:
            line = getattr(instance, "_import_line", None)
            raise ValidationError(errors if line is None else _with_line(errors, line))

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None) -> None:
        # A batch of new signatures, written as the lifecycle enters them (letters.lifecycle.entry).
        if dry_run:
            # A preview: what it would write is rolled back, and nothing it shows depends on it (the
            # rows were read and matched before any was written, `_plan`). A third of its time.
            self.create_instances.clear()
            return
        try:
            signatures_enter(
                letter=self.letter, signatures=self.create_instances, user=self._user, now=self.imported_at
            )
        except ValidationError as error:
            self.handle_import_error(result, error, raise_errors)
        finally:
            self.create_instances.clear()

    def import_data(self, dataset, *args, **kwargs):
        self._user = kwargs.get("user")
        if self.letter is None:
            raise ValueError("SignatureImportResource needs the letter to import into.")
        # Any invalid row rolls back the whole file.
        kwargs["rollback_on_validation_errors"] = True
        kwargs["use_transactions"] = True
        # This import's options: import_export's import_row sets `store_instance` on the options it
        # is given, which were the class's, so that one admin import changed every later one.
        self._meta = copy.copy(self._meta)
        if not kwargs.get("dry_run"):
            # Only a preview shows each row's values (PreviewDiff): storing them reads none.
            self._meta.skip_diff = True
        result = super().import_data(dataset, *args, **kwargs)
        result.imported_at = self.imported_at  # the admin shows what was imported by it
        return result

    # -- reading the rows, a batch at a time ----------------------------------

    def _plan(self, dataset) -> None:
        """What each row will do (`Planned`), read and matched a batch of rows at a time."""
        headers = dataset.headers
        rows = [(number, dict(zip(headers, data, strict=True))) for number, data in enumerate(dataset, 1)]
        size = self._meta.batch_size
        for start in range(0, len(rows), size):
            self._plan_batch(rows[start : start + size])

    def _plan_batch(self, rows: list) -> None:
        read: list[Planned] = []
        for number, row in rows:
            line = number + 1  # the header is line 1
            planned = self._planned[number] = _read_row(line, row, self.letter, self.dayfirst)
            if planned.values is not None:
                read.append(planned)
        individuals = [planned for planned in read if planned.kind == INDIVIDUAL]
        organizations = [planned for planned in read if planned.kind == ORGANIZATION]
        found = batches.individual_matches(self.letter, [planned.signatory for planned in individuals])
        found += batches.organization_matches([planned.signatory for planned in organizations])
        for planned, matches in zip(individuals + organizations, found, strict=True):
            planned.match(matches)
        self._already_on_letter(individuals, INDIVIDUAL)
        self._already_on_letter(organizations, ORGANIZATION)
        for planned in individuals + organizations:
            if not planned.skip and planned.error is None:
                self._in_file.check(planned)

    def _already_on_letter(self, rows: list["Planned"], kind: str) -> None:
        existing = {planned.signatory.pk for planned in rows if planned.signatory.pk is not None}
        if not existing:
            return
        already = batches.signatures_on_letter(self.letter, kind, existing)
        claims = batches.unlisted_claims(self.letter, existing) if kind == ORGANIZATION else {}
        entering = []
        for planned in rows:
            pk = planned.signatory.pk
            if pk is None:
                continue
            if signature := already.get(pk):
                planned.skip = True
                planned.note = f"already on this letter as #{signature.pk}, {_how(signature)}: skipped"
                continue
            planned.note += "".join(
                f"; claim #{claim.pk} ({_how(claim)}) stays as it is" for claim in claims.get(pk, [])
            )
            entering.append(planned)
        entries = [(p.signatory, self.letter.start_of_day(p.values.signed_on)) for p in entering]
        for planned, errors in zip(entering, entries_errors(self.letter, entries), strict=True):
            if errors:
                # The file's column: a day, where staff enter a moment.
                errors = {("signed_on" if field == "signed_at" else field): e for field, e in errors.items()}
                planned.error = ValidationError(_with_line(errors, planned.line))


# The staff export's columns that say a row was not on the list (SignatureExportResource).
UNLISTED_COLUMNS = {"withdrawn_at": "withdrawn or erased", "erased_at": "erased"}


# Why an import skips a row, as the admin and the command both say it.
SKIPPED_ROWS = (
    "blank, already signed this letter, or not on the list in the file: not approved, withdrawn or erased"
)


def unlisted_in_file(row) -> str:
    """
    Why a row of the staff export was not on its letter's list — its `status`
    is not approved, or it has a `withdrawn_at` (an erased signature has one
    too) — or "" when the file does not say so (the press CSV has no such column).
    """
    status = cell(row, "status").casefold()
    statuses = {
        spelling: label.lower()
        for value, label in Signature.Status.choices
        for spelling in (value, label.casefold())
    }
    if status and status not in statuses:
        raise ValidationError(
            {
                "status": f"“{cell(row, 'status')[:40]}” is not a status of the staff export ("
                + ", ".join(Signature.Status.values)
                + "); leave it empty for a signature to list."
            }
        )
    if status and statuses[status] != Signature.Status.APPROVED.label.lower():
        return f"{statuses[status]} in the file’s status column"
    for column, what in UNLISTED_COLUMNS.items():
        if cell(row, column):
            return f"{what} in the file ({column})"
    return ""


def _unnamed_column_with_data(dataset) -> str:
    """
    Why a column without a header cannot be left out, if one holds anything: a
    row reads a column by its name, so its cells would be dropped without a
    word — the family names under a "name" cell merged over two columns, what
    follows an unquoted comma in a CSV.
    """
    for index, header in enumerate(dataset.headers):
        if header:
            continue
        lines = [number + 2 for number, row in enumerate(dataset) if cell({"v": row[index]}, "v")]
        if lines:
            value = cell({"v": dataset[lines[0] - 2][index]}, "v")[:60]
            more = f" (and {len(lines) - 1} more lines)" if len(lines) > 1 else ""
            return (
                f"Column {get_column_letter(index + 1)} has no name on line 1, but line {lines[0]} has "
                f"“{value}” in it{more}. Name the column (type, name, title…) or delete it. A header cell "
                "merged over two columns names only the first: join first and family names into one "
                '“name” column. In a CSV, a name with a comma needs double quotes: "Pérez, Ana".'
            )
    return ""


def _how(signature: Signature) -> str:
    """ "signed online", "imported", "entered by staff", with the state when it is not listed."""
    how = {"form": "signed online", "import": "imported", "staff": "entered by staff"}[signature.source]
    if signature.erased_at:
        return f"{how}, erased at the signer’s request"
    if signature.withdrawn_at:
        return f"{how}, withdrawn"
    if signature.status != Signature.Status.APPROVED:
        return f"{how}, {signature.get_status_display().lower()}"
    return how


def _with_line(errors: dict, line: int) -> dict:
    return {
        field: [
            message if str(message).startswith("Line ") else f"Line {line}: {message}"
            for message in ValidationError(messages).messages
        ]
        for field, messages in errors.items()
    }


class ImportRow:
    """One row of an import file, read and checked; `read` raises ValidationError naming every bad cell."""

    def __init__(self, letter: Letter) -> None:
        self.letter = letter

    @classmethod
    def read(cls, row, *, letter: Letter, dayfirst: bool | None = None) -> "ImportRow":
        self = cls(letter)
        line_errors: dict[str, str] = {}
        self.type = cell(row, "type").lower()
        self.name = cell(row, "name")
        self.title = cell(row, "title")
        self.acronym = cell(row, "acronym")
        self.sort_name = cell(row, "sort_name")
        self.family_name = cell(row, "family_name")
        self.website = cell(row, "website")
        self.email = cell(row, "email")
        kinds = {INDIVIDUAL: letter.accepts_individuals, ORGANIZATION: letter.accepts_organizations}
        if self.type not in kinds:
            line_errors["type"] = f"Type must be “individual” or “organization”, not “{self.type[:40]}”."
        elif not kinds[self.type]:
            line_errors["type"] = f"This letter does not accept {self.type} signatures."
        limit = 300 if self.type == ORGANIZATION else 200
        if not self.name:
            line_errors["name"] = "The name is empty."
        elif len(self.name) > limit:
            line_errors["name"] = f"The name is longer than {limit} characters."
        # What will be printed follows the rule of the public form and the change forms.
        for column, rule in (Organization if self.type == ORGANIZATION else Individual).PRINTED_LINES.items():
            if column not in line_errors:
                try:
                    rule(getattr(self, column))
                except ValidationError as error:
                    line_errors[column] = error.messages[0]
        if self.type == ORGANIZATION and self.title:
            line_errors["title"] = (
                "Organizations have no title; leave it empty (the acronym has its own column)."
            )
        if self.type == INDIVIDUAL and (self.acronym or self.website):
            column = "acronym" if self.acronym else "website"
            line_errors[column] = f"Individuals have no {column}; leave it empty."
        longest = {
            "title": 400,
            "acronym": 50,
            "family_name": 200,
            "sort_name": limit,
            "email": 254,
            "website": 500,
        }
        for column, most in longest.items():
            if len(getattr(self, column)) > most and column not in line_errors:
                line_errors[column] = f"The {column.replace('_', ' ')} is longer than {most} characters."
        self.country = ""
        if raw_country := cell(row, "country"):
            self.country = country_code(raw_country)
            if not self.country:
                line_errors["country"] = (
                    f"“{raw_country[:60]}” is neither a country code (KR) nor an English country "
                    "name (South Korea)."
                )
        self.signed_on = None
        raw_day = row.get("signed_on")
        try:
            self.signed_on = parse_day(raw_day, dayfirst)
        except ValueError as error:
            line_errors["signed_on"] = str(error)
        else:
            if self.signed_on > letter.today():
                line_errors["signed_on"] = f"{self.signed_on.isoformat()} has not happened yet."
        if self.email:
            try:
                EmailValidator()(self.email)
            except ValidationError:
                line_errors["email"] = f"“{self.email[:80]}” is not an e-mail address."
        if self.website:
            if "://" not in self.website:
                self.website = "https://" + self.website
            try:
                URLValidator(schemes=["http", "https"])(self.website)
            except ValidationError:
                line_errors["website"] = f"“{self.website[:80]}” is not a web address."
        if line_errors:
            raise ValidationError(line_errors)
        return self

    def candidate(self) -> Individual | Organization:
        """The signatory this row names, as a new (unsaved) record."""
        if self.type == INDIVIDUAL:
            candidate = Individual(
                name=self.name,
                title=self.title,
                country=self.country,
                sort_name=self.sort_name,
                family_name=self.family_name,
                email=self.email,
            )
        else:
            candidate = Organization(
                name=self.name,
                acronym=self.acronym,
                country=self.country,
                website=self.website,
                sort_name=self.sort_name,
                contact_email=self.email,
            )
        candidate.refresh_derived_fields()
        return candidate


class Planned:
    """
    What one row of the file will do: import `signatory` (an existing record or
    a new one), be skipped (`skip`, saying why in `note`), or fail (`error`).
    """

    def __init__(self, line: int) -> None:
        self.line = line
        self.values: ImportRow | None = None
        self.kind = INDIVIDUAL
        self.signatory: Individual | Organization | None = None
        self.note = ""
        self.skip = False
        self.error: ValidationError | None = None

    def match(self, matches: list[identity.Match]) -> None:
        """Use the record the identity rule says this row is, else the new one, and name near records."""
        if not (matches and matches[0].same):
            self.note = f"new {self.kind}" + _near(matches)
            return
        found, values = matches[0].record, self.values
        if self.kind == INDIVIDUAL:
            _fill_blanks(
                found,
                title=values.title,
                country=values.country,
                sort_name=values.sort_name,
                family_name=values.family_name,
            )
            if values.email and not found.email:
                found.email = values.email
                found._import_changed = True
            self.note = f"existing individual #{found.pk} “{found.name}” ({matches[0].reason})"
        else:
            _fill_blanks(
                found,
                acronym=values.acronym,
                country=values.country,
                website=values.website,
                sort_name=values.sort_name,
            )
            how = (
                "" if identity.SAME_ORGANIZATION_NAME in matches[0].reasons else ", same acronym and country"
            )
            self.note = f"existing organization #{found.pk} “{found.display_name}”{how}"
        self.signatory = found


def _read_row(line: int, row: dict, letter: Letter, dayfirst: bool | None) -> Planned:
    planned = Planned(line)
    if not any(cell(row, column) for column in row):
        planned.skip = True  # a blank line
        return planned
    try:
        if why := unlisted_in_file(row):
            # A row of the staff export that was not on its letter's list: never listed here.
            planned.skip = True
            planned.kind = ORGANIZATION if cell(row, "type").lower() == ORGANIZATION else INDIVIDUAL
            model = Organization if planned.kind == ORGANIZATION else Individual
            planned.signatory = model(name=cell(row, "name"))  # shown, never saved
            planned.note = f"line {line}: {why}: not imported"
            return planned
        planned.values = ImportRow.read(row, letter=letter, dayfirst=dayfirst)
    except ValidationError as error:
        planned.error = ValidationError(_with_line(error.message_dict, line))
        return planned
    planned.kind = planned.values.type
    planned.signatory = planned.values.candidate()
    return planned


def _fill_blanks(record, **values) -> None:
    """A matched record keeps what it has; the file only fills what it lacks."""
    for field, value in values.items():
        if value and not getattr(record, field):
            setattr(record, field, value)
            record._import_changed = True


class InFile:
    """
    The rows of one file to import so far, by the identity rule's keys: a row
    that is the same signatory as an earlier one is an error naming both lines;
    one near an earlier one is flagged, as a near record on file is.
    """

    def __init__(self) -> None:
        self.rows: dict[tuple, list[Planned]] = defaultdict(list)

    @staticmethod
    def keys(planned: Planned) -> list[tuple]:
        signatory = planned.signatory
        keys: list[tuple] = [(planned.kind, "record", signatory.pk)] if signatory.pk else []
        return keys + [(planned.kind, *key) for key in identity.match_keys(signatory)]

    def check(self, planned: Planned) -> None:
        keys = self.keys(planned)
        lookups = keys + [(planned.kind, *key) for key in identity.match_lookups(planned.signatory)]
        near: dict[int, str] = {}
        for lookup in lookups:
            for earlier in self.rows.get(lookup, []):
                same, reasons = self._relation(planned, earlier)
                if same:
                    twice = f"the same {planned.kind} as line {earlier.line} of this file."
                    planned.error = ValidationError({"name": f"Line {planned.line}: {twice}"})
                    return
                if reasons:
                    near.setdefault(earlier.line, "; ".join(reasons))
        planned.note += "".join(
            f"; possibly the same as line {line} of this file ({reason}): check, then correct the file if so"
            for line, reason in sorted(near.items())
        )
        for key in keys:
            self.rows[key].append(planned)

    @staticmethod
    def _relation(planned: Planned, earlier: Planned) -> tuple[bool, list[str]]:
        a, b = planned.signatory, earlier.signatory
        if a.pk is not None and a.pk == b.pk:
            return True, []
        if planned.kind == INDIVIDUAL:
            # The earlier row will be on the letter, by an import: an equal name is its person.
            return identity.individual_relation(a, b, on_same_letter=True)
        return identity.organization_relation(a, b)


def _near(matches: list[identity.Match]) -> str:
    """What the preview says of near names: staff decide, the import never merges them."""
    near = [f"#{match.record.pk} “{match.record.display_name}” ({match.reason})" for match in matches[:3]]
    return f"; possibly the same as {', '.join(near)}: check, then merge if so" if near else ""


def cell(row, column: str) -> str:
    """
    A text cell as we wrote it: formula escaping undone, white space tidied; a
    character no printed line may hold is kept, for the row's check to refuse.
    """
    value = row.get(column)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return tidy_text(unescape_formula(str(value)))


# English names people write that are not a country's name in django-countries.
OTHER_ENGLISH_NAMES = {
    "united states": "US",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "republic of korea": "KR",
    "korea republic of": "KR",
    "ivory coast": "CI",
    "cape verde": "CV",
    "burma": "MM",
    "dr congo": "CD",
    "drc": "CD",
    "democratic republic of congo": "CD",
    "republic of congo": "CG",
    "vatican": "VA",
    "vatican city": "VA",
    "east timor": "TL",
    "czech republic": "CZ",
    "korea": "KR",
    "rok": "KR",
    "america": "US",
    "united states of america": "US",
}


def country_code(value: str) -> str:
    """
    The ISO code for a code (KR, KOR) or an English name (South Korea, United
    States), written with or without accents, a leading "The", "&" for "and";
    "" for neither. Letters only: django-countries also reads ISO numeric codes
    ("12" is Algeria), and a number in this column is rather a shifted column.
    """
    value = clean_text(value)
    if (
        len(value) in (2, 3)
        and value.isascii()
        and value.isalpha()
        and (code := countries.alpha2(value.upper()))
    ):
        return code
    if code := countries.by_name(value):
        return code
    return _english_country_keys().get(_country_key(value), "")


@functools.cache
def _english_country_keys() -> dict[str, str]:
    # The short names we write ("South Korea") are set by COUNTRIES_OVERRIDE/COMMON_NAMES.
    keys = {_country_key(name): code for code, name in english_country_names().items()}
    return keys | OTHER_ENGLISH_NAMES


def _country_key(name: str) -> str:
    """A country's name without case, accents, punctuation or a leading "The" ("The Gambia")."""
    return LEADING_THE.sub("", name_key(name))


LEADING_THE = re.compile(r"^the ")


# A day as spreadsheets write it: "15/09/2023", "9/15/2023 14:03:22" (a Google Form's timestamp).
WRITTEN_DAY = re.compile(r"[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4}(?:[ T][0-9:.]+(?: ?[AaPp][Mm])?)?")
DATE_ORDERS = {"dmy": True, "mdy": False, "day-first": True, "month-first": False}


def parse_day(value, dayfirst: bool | None = None) -> dt.date:
    """
    The day a cell names: a date cell, ISO ("2023-09-15"), or a day as
    spreadsheets write it, read by python-dateutil; `dayfirst` is the file's
    choice, None when it made none (then a day that reads two ways is refused).
    """
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        text = cell({"v": value}, "v")
        if not text:
            raise ValueError("The day it was signed is missing (signed_on, as YYYY-MM-DD).")
        day = _written_day(text, dayfirst)
    if day <= lifecycle.EARLIEST_DAY:
        raise ValueError(
            f"{day.isoformat()} is too early: no letter here was signed before {lifecycle.EARLIEST_DAY.year}."
        )
    return day


def _written_day(text: str, dayfirst: bool | None) -> dt.date:
    not_a_day = ValueError(f"“{text[:40]}” is not a day written YYYY-MM-DD (2023-09-21) or 21/09/2023.")
    try:
        if ISO_DAY.fullmatch(text):
            return dt.date.fromisoformat(text)
        if not WRITTEN_DAY.fullmatch(text):
            raise not_a_day
        if dayfirst is not None:
            return dateparser.parse(text, dayfirst=dayfirst).date()
        first, second = (dateparser.parse(text, dayfirst=order).date() for order in (True, False))
    except (ValueError, OverflowError):
        raise not_a_day from None
    if first != second:
        raise ValueError(
            f"“{text[:40]}” is {first:%-d %B %Y} day-first or {second:%-d %B %Y} month-first: "
            "choose how this file writes its dates (day-first or month-first) and import it again."
        )
    return first


class SignatureExportResource(SignatureColumnsMixin, EscapedExportMixin, resources.ModelResource):
    """
    The staff export: the import columns, then the private and workflow fields.
    Times are in the letter's zone: in CSV written with their offset
    ("2026-11-20 00:00:00+01:00"), in XLSX as real date and time cells (which
    cannot hold a zone: the `time_zone` column names it).
    """

    TIMES = ("submitted_at", "confirmed_at", "approved_at", "rejected_at", "withdrawn_at")

    letter = Field(column_name="letter", readonly=True)
    time_zone = Field(column_name="time_zone", readonly=True)
    contact_email = Field(attribute="contact_email", column_name="contact_email")
    signer_name = Field(attribute="signer_name", column_name="signer_name")

    class Meta:
        model = Signature
        private = (
            "id",
            "status",
            "source",
            "submitted_at",
            "confirmed_at",
            "approved_at",
            "approved_by",
            "rejected_at",
            "rejection_reason",
            "withdrawn_at",
            "withdrawal_reason",
            "unnamed",
            "public_consent",
            "contact_consent",
            "signer_name",
            "contact_email",
            "ip_hash",
            "notes",
        )
        fields = (*IMPORT_COLUMNS, "letter", "time_zone", *private)
        export_order = fields

    @classmethod
    def get_display_name(cls) -> str:
        return "Signatures with private fields (staff)"

    def export_field(self, field, instance: Signature, **kwargs):
        # XLSX and other binary formats ask for native values: real cells.
        native = kwargs.get("force_native_type", False)
        if field.attribute in self.TIMES:
            moment = getattr(instance, field.attribute)
            if moment is None:
                return "" if not native else None
            local = moment.astimezone(instance.letter.tzinfo)
            return local.replace(tzinfo=None) if native else local.isoformat(sep=" ", timespec="seconds")
        if native and field.column_name == "signed_on" and instance.signed_at is not None:
            return instance.letter.local_date(instance.signed_at)
        return super().export_field(field, instance, **kwargs)

    def dehydrate_time_zone(self, signature: Signature) -> str:
        return signature.letter.timezone

    def dehydrate_letter(self, signature: Signature) -> str:
        return signature.letter.slug

    def dehydrate_approved_by(self, signature: Signature) -> str:
        return signature.approved_by.get_username() if signature.approved_by else ""

    def get_queryset(self):
        return Signature.objects.select_related("letter", "individual", "organization", "approved_by")

    def filter_export(self, queryset, **kwargs):
        # The admin hands over its list's queryset: fetch every related row with it, not once per row.
        return queryset.select_related("letter", "individual", "organization", "approved_by")

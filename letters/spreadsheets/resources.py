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

import datetime as dt
import functools
import re

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django_countries import countries
from import_export import resources
from import_export.fields import Field
from openpyxl.utils import get_column_letter

from letters import lifecycle
from letters.models import Letter, Signature
from letters.outputs.press import escape_formula, unescape_formula
from letters.rosters import english_country_names
from signatories import identity
from signatories.models import Individual, Organization
from signatories.normalize import clean_text, name_key, tidy_text, xml_text

PRESS_COLUMNS = ["type", "name", "title", "acronym", "country", "signed_on"]
OPTIONAL_COLUMNS = ["email", "sort_name", "website"]
IMPORT_COLUMNS = PRESS_COLUMNS + OPTIONAL_COLUMNS
REQUIRED_COLUMNS = ["type", "name", "signed_on"]

INDIVIDUAL = "individual"
ORGANIZATION = "organization"
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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

    def dehydrate_sort_name(self, signature: Signature) -> str:
        return signature.signatory.sort_name if signature.signatory else ""

    def dehydrate_website(self, signature: Signature) -> str:
        return signature.organization.website if signature.organization_id else ""


class PreviewDiff(resources.Diff):
    """The import preview shows each row as it will be stored: read through the dehydrate methods."""

    def __init__(self, resource, instance, new):
        super().__init__(resource, instance, new)
        self.left = self._values(resource, instance)

    def compare_with(self, resource, instance):
        self.right = self._values(resource, instance)

    @staticmethod
    def _values(resource, instance) -> list:
        # Resource.export_field, not ours: the preview shows the names unescaped.
        return [
            resources.Resource.export_field(resource, field, instance) for field in resource.fields.values()
        ]


class SignatureImportResource(SignatureColumnsMixin, EscapedExportMixin, resources.ModelResource):
    # Shown in the preview only: which existing record a row was matched to.
    record = Field(column_name="matched record", readonly=True)

    class Meta:
        model = Signature
        fields = (*IMPORT_COLUMNS, "record")
        import_order = (*IMPORT_COLUMNS, "record")
        export_order = (*IMPORT_COLUMNS, "record")
        # Every row is a new signature: there is nothing to look up by id.
        force_init_instance = True
        # Row-level checks happen in import_instance; the model's own are run there too.
        clean_model_instances = False
        skip_unchanged = False
        report_skipped = True

    def __init__(self, *, letter: Letter | None = None, **kwargs) -> None:
        super().__init__()
        self.letter = letter
        self._user = None
        # (kind, pk) -> line of the file that signed for it, to report doubles within one file.
        self._seen_in_file: dict[tuple[str, int], int] = {}

    @classmethod
    def get_display_name(cls) -> str:
        return "Signatures of one letter"

    def get_user_visible_fields(self):
        return [self.fields[name] for name in IMPORT_COLUMNS]

    def get_diff_class(self):
        return PreviewDiff

    def get_diff_headers(self):
        return [field.column_name for field in self.fields.values()]

    def dehydrate_record(self, signature: Signature) -> str:
        return getattr(signature, "_import_match", "")

    # -- the import ----------------------------------------------------------

    def before_import(self, dataset, **kwargs) -> None:
        headers = [clean_text(str(header or "")).lower() for header in dataset.headers or []]
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
        missing = [column for column in REQUIRED_COLUMNS if column not in headers]
        if missing:
            raise ValueError(
                "The file has no " + ", ".join(f"“{column}”" for column in missing) + " column. "
                "The first line must name the columns: " + ", ".join(IMPORT_COLUMNS) + "."
            )

    def init_instance(self, row=None) -> Signature:
        return Signature(letter=self.letter, source=Signature.Source.IMPORT, public_consent=True)

    def import_instance(self, instance: Signature, row, **kwargs) -> None:
        line = kwargs.get("row_number", 0) + 1  # the header is line 1
        instance._import_line = line
        if not any(cell(row, column) for column in row):
            instance._import_skip = True  # a blank line
            return
        if why := unlisted_in_file(row):
            # A row of the staff export that was not on its letter's list: never listed here.
            instance._import_skip = True
            instance._import_kind = ORGANIZATION if cell(row, "type").lower() == ORGANIZATION else INDIVIDUAL
            model = Organization if instance._import_kind == ORGANIZATION else Individual
            setattr(instance, instance._import_kind, model(name=cell(row, "name")))  # shown, never saved
            instance._import_match = f"line {line}: {why}: not imported"
            return
        values = ImportRow.read(row, letter=self.letter)
        signatory, match_note = values.find_or_build_signatory()
        kind = values.type
        if signatory.pk is not None:
            key = (kind, signatory.pk)
            if key in self._seen_in_file:
                raise ValidationError(
                    {"name": f"Line {line}: the same {kind} as line {self._seen_in_file[key]} of this file."}
                )
            already = lifecycle.signature_on_letter(self.letter, signatory)
            if already is not None:
                instance._import_skip = True
                instance._import_match = f"already on this letter as #{already.pk}, {_how(already)}: skipped"
                setattr(instance, kind, signatory)
                return
            if kind == ORGANIZATION:
                claims = Signature.objects.filter(
                    lifecycle.unlisted_claim(), letter=self.letter, organization=signatory
                )
                match_note += "".join(
                    f"; claim #{claim.pk} ({_how(claim)}) stays as it is" for claim in claims
                )
        instance._import_signatory = signatory
        instance._import_kind = kind
        instance._import_match = match_note
        setattr(instance, kind, signatory)
        instance.status = Signature.Status.APPROVED
        instance.signed_at = self.letter.start_of_day(values.signed_on)
        instance.submitted_at = instance.signed_at
        instance.contact_email = values.email

    def skip_row(self, instance, original, row, import_validation_errors=None) -> bool:
        return getattr(instance, "_import_skip", False) and not import_validation_errors

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if errors:
            line = getattr(instance, "_import_line", None)
            raise ValidationError(errors if line is None else _with_line(errors, line))

    def before_save_instance(self, instance: Signature, row, **kwargs) -> None:
        signatory, kind = instance._import_signatory, instance._import_kind
        if signatory.pk is None or getattr(signatory, "_import_changed", False):
            signatory.save()
        setattr(instance, kind, signatory)
        self._seen_in_file[(kind, signatory.pk)] = instance._import_line

    def do_instance_save(self, instance: Signature, is_create: bool) -> None:
        # Every new signature goes through the lifecycle, like the change form's.
        stored = lifecycle.signature_enter(
            letter=self.letter,
            signatory=instance.signatory,
            signed_at=instance.signed_at,
            user=self._user,
            source=Signature.Source.IMPORT,
            contact_email=instance.contact_email,
        )
        instance.__dict__.update(stored.__dict__)

    def import_data(self, dataset, *args, **kwargs):
        self._user = kwargs.get("user")
        if self.letter is None:
            raise ValueError("SignatureImportResource needs the letter to import into.")
        # Any invalid row rolls back the whole file.
        kwargs["rollback_on_validation_errors"] = True
        kwargs["use_transactions"] = True
        return super().import_data(dataset, *args, **kwargs)


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
    def read(cls, row, *, letter: Letter) -> "ImportRow":
        self = cls(letter)
        line_errors: dict[str, str] = {}
        self.type = cell(row, "type").lower()
        self.name = cell(row, "name")
        self.title = cell(row, "title")
        self.acronym = cell(row, "acronym")
        self.sort_name = cell(row, "sort_name")
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
        longest = {"title": 400, "acronym": 50, "sort_name": limit, "email": 254, "website": 500}
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
            self.signed_on = parse_day(raw_day)
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

    def find_or_build_signatory(self) -> tuple[Individual | Organization, str]:
        """The existing individual or organization this row names, else a new (unsaved) one."""
        if self.type == INDIVIDUAL:
            return self._individual()
        return self._organization()

    def _individual(self) -> tuple[Individual, str]:
        candidate = Individual(
            name=self.name, title=self.title, country=self.country, sort_name=self.sort_name, email=self.email
        )
        candidate.refresh_derived_fields()
        # Only those a signature speaks for: an equal name typed by a stranger who never confirmed is near.
        on_letter = lifecycle.vouched_individuals(self.letter)
        # Spelling distance is the duplicates page's work: per row it would read every record.
        matches = identity.individual_matches(candidate, on_letter=on_letter, fuzzy=False)
        if matches and matches[0].same:
            found = matches[0].record
            self._fill_blanks(found, title=self.title, country=self.country, sort_name=self.sort_name)
            if self.email and not found.email:
                found.email = self.email
                found._import_changed = True
            return found, f"existing individual #{found.pk} “{found.name}” ({matches[0].reason})"
        return candidate, "new individual" + _near(matches)

    def _organization(self) -> tuple[Organization, str]:
        candidate = Organization(
            name=self.name,
            acronym=self.acronym,
            country=self.country,
            website=self.website,
            sort_name=self.sort_name,
            contact_email=self.email,
        )
        candidate.refresh_derived_fields()
        matches = identity.organization_matches(candidate, fuzzy=False)
        if matches and matches[0].same:
            found = matches[0].record
            self._fill_blanks(
                found,
                acronym=self.acronym,
                country=self.country,
                website=self.website,
                sort_name=self.sort_name,
            )
            how = (
                "" if identity.SAME_ORGANIZATION_NAME in matches[0].reasons else ", same acronym and country"
            )
            return found, f"existing organization #{found.pk} “{found.display_name}”{how}"
        return candidate, "new organization" + _near(matches)

    @staticmethod
    def _fill_blanks(record, **values) -> None:
        """A matched record keeps what it has; the file only fills what it lacks."""
        for field, value in values.items():
            if value and not getattr(record, field):
                setattr(record, field, value)
                record._import_changed = True


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


def parse_day(value) -> dt.date:
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        text = cell({"v": value}, "v")
        if not text:
            raise ValueError("The day it was signed is missing (signed_on, as YYYY-MM-DD).")
        try:
            if not ISO_DAY.fullmatch(text):
                raise ValueError
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"“{text[:40]}” is not a day written YYYY-MM-DD, e.g. 2023-09-21.")
    if day <= lifecycle.EARLIEST_DAY:
        raise ValueError(
            f"{day.isoformat()} is too early: no letter here was signed before {lifecycle.EARLIEST_DAY.year}."
        )
    return day


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

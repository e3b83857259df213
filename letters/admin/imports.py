"""
Spreadsheets in the staff panel (django-import-export): importing the
signatures of one letter, and the staff export with private fields. The rows
themselves are read and written by `letters.spreadsheets.resources`.
"""

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import re

import openpyxl
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.cache import cache
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext, gettext_lazy, ngettext
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.tmp_storages import CacheStorage

from letters.admin.params import database_id
from letters.models import ImportColumnMap, Letter, Signature
from letters.spreadsheets.files import ImportCSV, ImportXLSX, TooManyRows, first_line
from letters.spreadsheets.resources import (
    IGNORED,
    IMPORT_COLUMNS,
    SKIPPED_ROWS,
    SignatureExportResource,
    SignatureImportResource,
    header_keys,
    unrecognized_headers,
)
from letters.spreadsheets.uploads import refused_upload

logger = logging.getLogger(__name__)


class UploadStorage(CacheStorage):
    """
    Where an uploaded file waits between the preview and the confirmation
    (settings.IMPORT_EXPORT_TMP_STORAGE_CLASS): the shared cache, under a
    random name the server chose. The confirmation posts that name back; a name
    of any other shape — a path, another file of the temporary folder — is
    refused, so it can neither read nor delete anything but an upload.
    """

    CACHE_LIFETIME = 3600
    CACHE_PREFIX = "import-upload-"
    NAME = re.compile(r"[0-9a-f]{32}")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.name is not None and not self.is_valid_name(self.name):
            raise ValueError("Not the name of an upload")

    @classmethod
    def is_valid_name(cls, name: str) -> bool:
        return bool(cls.NAME.fullmatch(name))

    def exists(self) -> bool:
        return cache.has_key(self.CACHE_PREFIX + self.name)


def count_rows(upload, file_format: type) -> int:
    """
    Rows of an uploaded file without parsing it: lines of a CSV, the <row>
    elements of an XLSX's sheet (never the size the sheet states: a file
    claiming "A1:I2" over a thousand rows would pass the limit). Includes the header.
    """
    upload.seek(0)
    try:
        if issubclass(file_format, XLSX):
            try:
                return _count_xlsx_rows(upload)
            except Exception:
                return 0  # not a workbook openpyxl can stream: the parser says what is wrong next
        lines, last = 0, b"\n"
        for chunk in upload.chunks():
            lines += chunk.count(b"\n")
            last = chunk[-1:] or last
        return lines + (last != b"\n")
    finally:
        upload.seek(0)


XML_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")


def _count_xlsx_rows(upload) -> int:
    workbook = openpyxl.load_workbook(upload, read_only=True)
    try:
        sheet = workbook.active
        # Count the sheet's <row> elements in its XML as it is decompressed, without parsing a cell
        # (openpyxl's row iterator: 6 s for 20,000 rows on this machine; this: 0.3 s for 100,000),
        # stopping past the limit.
        rows, tail = 0, b""
        with sheet._get_source() as source:  # openpyxl's read-only stream of the sheet's XML
            while rows <= settings.IMPORT_MAX_ROWS + 1 and (chunk := source.read(1 << 16)):
                data = tail + chunk
                rows += len(XML_ROW.findall(data))
                # A tag cut at the chunk's end is counted with the next chunk, never twice.
                cut = data.rfind(b"<")
                tail = data[cut:] if cut != -1 and not XML_ROW.match(data, cut) else b""
        return rows
    finally:
        workbook.close()


# How a file writes its days, chosen for the whole file (resources.DATE_ORDERS).
DATE_CHOICES = [
    ("", gettext_lazy("Ask me if a date could be read either way")),
    ("dmy", gettext_lazy("Day first: 15/09/2023 is 15 September")),
    ("mdy", gettext_lazy("Month first: 9/15/2023 is 15 September")),
]
# What a column of the file the import does not know is.
COLUMN_CHOICES = [(IGNORED, gettext_lazy("Not imported")), *[(column, column) for column in IMPORT_COLUMNS]]
# Columns the form asks about at most (a first line of hundreds of headers is not a sheet of signatures).
MAX_ASKED = 50


def header_hash(headers) -> str:
    """What `ImportColumnMap` knows a first line by: its headers, tidied, in lower case."""
    return hashlib.sha256("\n".join(header_keys(headers)).encode()).hexdigest()


class SignatureImportForm(ImportForm):
    letter = forms.ModelChoiceField(
        queryset=Letter.objects.order_by("title"),
        help_text=gettext_lazy("Every row of the file becomes an approved signature of this letter."),
    )
    dates = forms.ChoiceField(
        label=gettext_lazy("Dates in the file"),
        choices=DATE_CHOICES,
        required=False,
        help_text=gettext_lazy("How the file writes a day such as 9/10/2023, for the whole file."),
    )
    # While staff say which column is which: the upload waiting in UploadStorage, and its name.
    upload = forms.CharField(required=False, widget=forms.HiddenInput)
    upload_name = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)
    field_order = ["letter", "resource", "import_file", "format", "dates"]

    def __init__(self, formats, resources, refused_upload: int | None = None, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.formats = formats
        # The size of an upload too large to be read at all (letters/spreadsheets/uploads.py).
        self.refused_upload = refused_upload
        if refused_upload or self.data.get("upload"):
            self.fields["import_file"].required = False  # clean_import_file says why it is missing
        # The column choices posted back: header_0 (the file's header, hidden), column_0 (its column)…
        self.asked: list[str] = []
        for number in range(MAX_ASKED):
            header = self.data.get(f"header_{number}")
            if header is None:
                break
            self._ask(header[:200])

    def _ask(self, header: str, initial: str = IGNORED) -> None:
        number = len(self.asked)
        self.asked.append(header)
        self.fields[f"header_{number}"] = forms.CharField(
            initial=header, widget=forms.HiddenInput, required=False
        )
        self.fields[f"column_{number}"] = forms.ChoiceField(
            label=gettext("Column “%(header)s” is") % {"header": Truncator(header).chars(60)},
            choices=COLUMN_CHOICES,
            initial=initial,
        )

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if self.refused_upload:
            raise forms.ValidationError(self._too_large("upload", self.refused_upload))
        if upload is None:
            upload = self._waiting_upload()
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(self._too_large("file", upload.size))
        return upload

    def _waiting_upload(self) -> SimpleUploadedFile:
        """The file uploaded before staff said which column is which."""
        name = self.data.get("upload", "")
        content = UploadStorage(name=name).read() if UploadStorage.is_valid_name(name) else None
        if not isinstance(content, bytes):
            raise forms.ValidationError(
                gettext("The uploaded file is gone (it waits an hour). Upload it again.")
            )
        return SimpleUploadedFile(self.data.get("upload_name", "")[:255] or "upload", content)

    @staticmethod
    def _too_large(what: str, size: int) -> str:
        return (
            f"The {what} is {filesizeformat(size)}; an import takes at most "
            f"{filesizeformat(settings.IMPORT_MAX_BYTES)}. Split it into smaller files."
        )

    def clean(self):
        data = super().clean()
        upload, chosen = data.get("import_file"), data.get("format")
        if upload is None or chosen in (None, ""):
            return data
        rows = count_rows(upload, self.formats[int(chosen)]) - 1  # the header
        if rows > settings.IMPORT_MAX_ROWS:
            self.add_error(
                "import_file",
                f"The file has {rows:,} rows; an import takes at most {settings.IMPORT_MAX_ROWS:,}. "
                "Split it into smaller files (in a spreadsheet, empty rows that were formatted count too: "
                "delete them).",
            )
            return data
        self._columns(data, upload, issubclass(self.formats[int(chosen)], XLSX))
        return data

    def _columns(self, data: dict, upload, xlsx: bool) -> None:
        """
        Which column of ours each header of the file the import does not know is:
        as staff chose it here, or asked (the choices of the last file with the
        same first line preselected) before the file is read.
        """
        upload.seek(0)
        content = upload.read()
        upload.seek(0)
        headers = first_line(content, xlsx)
        data["columns"] = {}
        if headers is None:
            return  # the import says what is wrong with the file
        chosen = {
            header: data.get(f"column_{number}", IGNORED)
            for number, header in enumerate(self.asked)
            if data.get(f"column_{number}")
        }
        unknown = unrecognized_headers(headers, chosen)
        if not unknown and self.asked:
            data["columns"] = chosen
            ImportColumnMap.objects.update_or_create(
                header_hash=header_hash(headers),
                defaults={"mapping": dict(zip(header_keys(chosen), chosen.values(), strict=True))},
            )
            return
        if not unknown:
            return
        # Ask: keep the file waiting, offer a choice for each unknown header, preselected as last time.
        remembered = ImportColumnMap.objects.filter(header_hash=header_hash(headers)).first()
        mapping = remembered.mapping if remembered else {}
        waiting = UploadStorage()
        waiting.save(content)
        self.data = self.data.copy()
        self.data["upload"], self.data["upload_name"] = waiting.name, upload.name
        self.fields["import_file"].required = False
        self.asked = []
        for header in unknown[:MAX_ASKED]:
            number = len(self.asked)
            self._ask(header)
            self.data[f"header_{number}"] = header
            self.data[f"column_{number}"] = mapping.get(header_keys([header])[0], IGNORED)
        self.add_error(
            None,
            ngettext(
                "Line 1 of the file has a column the import does not know. Say below which column it is "
                "(or “Not imported”), then press Submit again: the file is kept, no need to choose it again.",
                "Line 1 of the file has %(count)d columns the import does not know. Say below which column "
                "each is (or “Not imported”), then press Submit again: the file is kept, no need to choose "
                "it again.",
                len(unknown),
            )
            % {"count": len(unknown)},
        )


# Read by our own readers (letters/spreadsheets/files.py); written by the library's.
IMPORT_FORMATS = [ImportCSV, ImportXLSX]
EXPORT_FORMATS = [CSV, XLSX]


class SignatureConfirmImportForm(ConfirmImportForm):
    letter = forms.ModelChoiceField(queryset=Letter.objects.all(), widget=forms.HiddenInput)
    # What the import form chose: how the dates read, and which column is which (JSON).
    dates = forms.ChoiceField(choices=DATE_CHOICES, required=False, widget=forms.HiddenInput)
    columns = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_columns(self) -> dict[str, str]:
        text = self.cleaned_data["columns"] or "{}"
        try:
            columns = json.loads(text)
        except ValueError:
            columns = None
        known = {choice for choice, _label in COLUMN_CHOICES}
        if not (
            isinstance(columns, dict)
            and len(columns) <= MAX_ASKED
            and all(isinstance(key, str) and value in known for key, value in columns.items())
        ):
            raise forms.ValidationError(gettext("The column choices were lost. Upload the file again."))
        return columns

    def clean_format(self) -> str:
        chosen = self.cleaned_data["format"]
        if chosen not in {str(n) for n in range(len(IMPORT_FORMATS))}:
            raise forms.ValidationError("Unknown file format. Upload the file again.")
        return chosen

    def clean_import_file_name(self) -> str:
        name = self.cleaned_data["import_file_name"]
        if not UploadStorage.is_valid_name(name) or not UploadStorage(name=name).exists():
            raise forms.ValidationError("The uploaded file is gone (it waits an hour). Upload it again.")
        return name


# How a file's first bytes say what it is.
WORKBOOK = b"PK\x03\x04"  # an .xlsx is a zip archive
OLD_EXCEL = b"\xd0\xcf\x11\xe0"  # an .xls (Excel 97-2003)


def unreadable_file(data: dict, error: Exception) -> str:
    """What staff read when the chosen format cannot read a file at all, in plain words."""
    if isinstance(error, TooManyRows):
        return str(error)
    upload = data.get("import_file")
    start = b""
    if upload is not None:
        upload.seek(0)
        start = upload.read(4096)
        upload.seek(0)
    chosen_xlsx = issubclass(IMPORT_FORMATS[int(data.get("format") or 0)], XLSX)
    if start.startswith(OLD_EXCEL):
        return gettext(
            "This is an old Excel file (.xls). Open it in Excel or LibreOffice, save it as an "
            "Excel workbook (.xlsx) or as CSV UTF-8, and import it again."
        )
    if not chosen_xlsx and start.startswith(WORKBOOK):
        return gettext(
            "This file is an Excel workbook, not a CSV file: choose the format xlsx and import it again."
        )
    if chosen_xlsx:
        if start and b"\x00" not in start and not start.startswith(WORKBOOK):
            return gettext(
                "This file is not an Excel workbook: it reads as text. "
                "Choose the format csv and import it again."
            )
        return gettext(
            "This file is not an Excel workbook that can be read (it may be damaged). Open it in "
            "Excel or LibreOffice, save it again as .xlsx or as CSV UTF-8, and import it again."
        )
    if b"\x00" in start:
        return gettext(
            "This file is not a CSV file (it is not text). Export the sheet as CSV UTF-8 or as an "
            "Excel workbook (.xlsx) and import it again."
        )
    if isinstance(error, UnicodeDecodeError):
        # Excel's plain "CSV" is in the computer's code page (Windows-1252), not UTF-8.
        return gettext("Save the file as UTF-8 (CSV UTF-8 in Excel) and import it again.")
    return gettext("This file cannot be read as CSV. Export the sheet as CSV UTF-8 and import it again.")


def whole_file_problems(result) -> list[str]:
    """
    The sentences of an import that stopped on the file as a whole: ours as
    they are (every error the import raises for staff is a sentence); anything
    else, which would be a fault of ours, in plain words without its details.
    """
    sentences = []
    errors = [error.error for error in result.base_errors]
    errors += [error.error for _line, line_errors in result.row_errors() for error in line_errors]
    for error in errors:
        if isinstance(error, ValidationError):
            sentences += error.messages
        elif isinstance(error, ValueError):
            sentences.append(str(error))
        else:
            logger.error("The import stopped on %s", type(error).__name__)
            sentences.append(
                gettext("The file could not be imported, and nothing was stored. Tell the site's developers.")
            )
    return list(dict.fromkeys(sentences))


# The example row of the template file, under IMPORT_COLUMNS (staff replace it with theirs).
TEMPLATE_ROWS = [
    ["individual", "Ana Pérez", "Director, Example Institute", "", "France", "2023-09-15", "", "", ""],
]


def template_file(extension: str) -> tuple[bytes, str]:
    """The import's template: its columns in line 1, then example rows to replace."""
    if extension == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerows([IMPORT_COLUMNS, *TEMPLATE_ROWS])
        return out.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "signatures"
    for row in [IMPORT_COLUMNS, *TEMPLATE_ROWS]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), XLSX.CONTENT_TYPE


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)


def import_stamp(moment: dt.datetime) -> str:
    """An import's moment (every signature it wrote was approved then) as the list's query string says it."""
    return str((moment - EPOCH) // MICROSECOND)


class ImportFilter(admin.SimpleListFilter):
    """
    The signatures one import wrote (`?imported=` its moment, in microseconds
    since 1970: `import_stamp`), where staff land after confirming an import.
    """

    title = gettext_lazy("import")
    parameter_name = "imported"

    def moment(self) -> dt.datetime | None:
        value = self.value()
        if value is None:
            return None
        number = database_id(value)
        try:
            return EPOCH + number * MICROSECOND if number is not None else None
        except OverflowError:
            return None

    def lookups(self, request: HttpRequest, model_admin):
        if self.value() is None:
            return []  # offered only as the landing of an import
        moment = self.moment()
        if moment is None:
            raise IncorrectLookupParameters(gettext("imported: not the moment of an import."))
        count = self._imported(model_admin.get_queryset(request), moment).count()
        label = ngettext("Imported just now: %(count)d row", "Imported just now: %(count)d rows", count)
        return [(self.value(), label % {"count": count})]

    def queryset(self, request: HttpRequest, queryset):
        moment = self.moment()
        return self._imported(queryset, moment) if moment is not None else queryset

    @staticmethod
    def _imported(queryset, moment: dt.datetime):
        return queryset.filter(source=Signature.Source.IMPORT, approved_at=moment)


class SignatureImportExportMixin(ImportExportMixin):
    """Import and export of the signature admin."""

    import_template_name = "admin/letters/signature/import.html"
    import_form_class = SignatureImportForm
    confirm_form_class = SignatureConfirmImportForm
    import_formats = IMPORT_FORMATS
    export_formats = EXPORT_FORMATS
    # A byte-order mark, so that Excel reads the CSV as UTF-8 ("Pérez", not "PÃ©rez").
    to_encoding = "utf-8-sig"

    def get_import_resource_classes(self, request: HttpRequest):
        return [SignatureImportResource]

    def get_export_resource_classes(self, request: HttpRequest):
        return [SignatureExportResource]

    def get_export_queryset(self, request: HttpRequest):
        # The export reads the list's filters from its query string through the list itself
        # (params.GuardedChangeList): a filter the list refuses is a bad request here too.
        try:
            return super().get_export_queryset(request)
        except IncorrectLookupParameters as error:
            raise BadRequest(f"The export cannot use this filter ({error}).") from error

    def has_import_permission(self, request: HttpRequest) -> bool:
        # An import creates signatures, individuals and organizations.
        return request.user.has_perms(
            ["letters.add_signature", "signatories.add_individual", "signatories.add_organization"]
        )

    def get_import_form_kwargs(self, request: HttpRequest):
        return {**super().get_import_form_kwargs(request), "refused_upload": refused_upload(request)}

    def get_import_form_initial(self, request: HttpRequest):
        initial = super().get_import_form_initial(request)
        if letter := request.GET.get("letter"):
            initial["letter"] = letter
        return initial

    # -- the template file offered on the import page -------------------------

    def get_urls(self):
        urls = [
            path(
                "import/template.<str:extension>",
                self.admin_site.admin_view(self.import_template_view),
                name="letters_signature_import_template",
            )
        ]
        return urls + super().get_urls()

    def import_template_view(self, request: HttpRequest, extension: str) -> HttpResponse:
        """A file with the import's columns and one example row, as CSV or XLSX."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        if extension not in ("csv", "xlsx"):
            raise Http404(gettext("The template is a .csv or an .xlsx file."))
        content, content_type = template_file(extension)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="signatures-template.{extension}"'
        return response

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs):
        data = getattr(kwargs.get("form"), "cleaned_data", {})
        return {
            "letter": data.get("letter"),
            "dates": data.get("dates") or "",
            "columns": data.get("columns") or {},
        }

    def get_confirm_form_initial(self, request: HttpRequest, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            data = import_form.cleaned_data
            initial["letter"] = data["letter"].pk
            initial["letter_title"] = data["letter"].title
            initial["dates"] = data.get("dates") or ""
            initial["columns"] = json.dumps(data.get("columns") or {})
            initial["dates_label"] = dict(DATE_CHOICES).get(initial["dates"], "")
        return initial

    def add_data_read_fail_error_to_form(self, form, e) -> None:
        form.add_error("import_file", unreadable_file(form.cleaned_data, e))

    def import_action(self, request: HttpRequest, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        result, form = context.get("result"), context.get("form")
        if result is not None and form is not None and result.has_errors():
            # A file refused as a whole (its columns, say): sentences next to the file, never a traceback.
            for sentence in whole_file_problems(result):
                form.add_error("import_file", sentence)
            context.pop("result")
            context.pop("confirm_form", None)
        return response

    def get_import_context_data(self, **kwargs):
        return {**super().get_import_context_data(**kwargs), "import_columns": IMPORT_COLUMNS}

    def process_import(self, request: HttpRequest, **kwargs):
        response = super().process_import(request, **kwargs)
        if getattr(response, "context_data", {}).get("errors"):
            response.status_code = 400  # a confirmation that names no upload of ours
        return response

    def process_result(self, result, request: HttpRequest):
        # The preview passed, but the data may have changed since: nothing was stored.
        if result.has_errors() or result.has_validation_errors():
            self.message_user(
                request,
                "Nothing was imported: the file no longer imports cleanly. Upload it again to see why.",
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:letters_signature_import"))

        response = super().process_result(result, request)
        # The list of the signatures just imported, whatever their place in the queue.
        query = {"queue": "all", "imported": import_stamp(result.imported_at)}
        letters = {row.instance.letter_id for row in result.valid_rows() if row.instance is not None}
        if len(letters) == 1:
            query["letter"] = letters.pop()
        return HttpResponseRedirect(f"{response.url}?{urlencode(query)}")

    def add_success_message(self, result, request: HttpRequest) -> None:
        totals = result.totals
        message = ngettext(
            "Imported just now: %(count)d row.", "Imported just now: %(count)d rows.", totals["new"]
        ) % {"count": totals["new"]}
        if totals["skip"]:
            message += " " + gettext("%(count)d rows skipped (%(why)s).") % {
                "count": totals["skip"],
                "why": SKIPPED_ROWS,
            }
        self.message_user(request, message, messages.SUCCESS)

    def get_export_filename(self, request: HttpRequest, queryset, file_format):
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d-%H%M")
        return f"signatures-{stamp}.{file_format.get_extension()}"

"""
Spreadsheets in the staff panel (django-import-export): importing the
signatures of one letter, and the staff export with private fields. The rows
themselves are read and written by `letters.spreadsheets.resources`.
"""

import datetime as dt
import logging
import re

import openpyxl
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.cache import cache
from django.core.exceptions import BadRequest, ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.tmp_storages import CacheStorage

from letters.models import Letter
from letters.spreadsheets.files import ImportCSV, ImportXLSX, TooManyRows
from letters.spreadsheets.resources import (
    IMPORT_COLUMNS,
    SKIPPED_ROWS,
    SignatureExportResource,
    SignatureImportResource,
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


class SignatureImportForm(ImportForm):
    letter = forms.ModelChoiceField(
        queryset=Letter.objects.order_by("title"),
        help_text="Every row of the file becomes an approved signature of this letter.",
    )
    field_order = ["letter", "resource", "import_file", "format"]

    def __init__(self, formats, resources, refused_upload: int | None = None, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.formats = formats
        # The size of an upload too large to be read at all (letters/spreadsheets/uploads.py).
        self.refused_upload = refused_upload
        if refused_upload:
            self.fields["import_file"].required = False  # clean_import_file says why it is missing

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if self.refused_upload:
            raise forms.ValidationError(self._too_large("upload", self.refused_upload))
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(self._too_large("file", upload.size))
        return upload

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


# Read by our own readers (letters/spreadsheets/files.py); written by the library's.
IMPORT_FORMATS = [ImportCSV, ImportXLSX]
EXPORT_FORMATS = [CSV, XLSX]


class SignatureConfirmImportForm(ConfirmImportForm):
    letter = forms.ModelChoiceField(queryset=Letter.objects.all(), widget=forms.HiddenInput)

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

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs):
        form = kwargs.get("form")
        return {"letter": getattr(form, "cleaned_data", {}).get("letter")}

    def get_confirm_form_initial(self, request: HttpRequest, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["letter"] = import_form.cleaned_data["letter"].pk
            initial["letter_title"] = import_form.cleaned_data["letter"].title
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
        return super().process_result(result, request)

    def add_success_message(self, result, request: HttpRequest) -> None:
        totals = result.totals
        message = f"Imported {totals['new']} signatures."
        if totals["skip"]:
            message += f" {totals['skip']} rows skipped ({SKIPPED_ROWS})."
        self.message_user(request, message, messages.SUCCESS)

    def get_export_filename(self, request: HttpRequest, queryset, file_format):
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d-%H%M")
        return f"signatures-{stamp}.{file_format.get_extension()}"

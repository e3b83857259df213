"""
Spreadsheets as staff's files have them.

Cells that a spreadsheet would run as a formula: every CSV and XLSX we write
passes its text cells through `escape_formula`; the staff import passes them
through `unescape_formula`, so an export re-imported gives the same names.
(django-import-export's own setting only strips a leading "=", and defusedcsv
misses tab and carriage return and rewrites "|", so neither covers the list in
docs/design.md, "Press CSV".)

Files read by the staff import (`ImportCSV`, `ImportXLSX`): one dataset row per
row the spreadsheet shows, so that line numbers are the spreadsheet's (an empty
line of a CSV is a row too), every row as wide as the widest (a workbook that
does not state its size has rows as long as their last filled cell), and a CSV's
cells split at commas, or at semicolons where Excel writes those (where a comma
is the decimal sign).
"""

import csv
import io

import openpyxl
import tablib
from django.conf import settings
from import_export.formats.base_formats import CSV, XLSX


def rectangular(rows) -> tablib.Dataset:
    """The rows, the first one the headers, each as wide as the widest (blank cells added)."""
    rows = [list(row) for row in rows]
    dataset = tablib.Dataset()
    if not rows:
        return dataset
    width = max(len(row) for row in rows)
    dataset.headers = rows[0] + [None] * (width - len(rows[0]))
    for row in rows[1:]:
        dataset.append(row + [None] * (width - len(row)))
    return dataset


class TooManyRows(ValueError):
    """A file over IMPORT_MAX_ROWS, found while it is read; its message is for staff."""


# What a CSV's cells are separated by, the most frequent on its first line.
CSV_DELIMITERS = (",", ";", "\t")


class ImportCSV(CSV):
    def create_dataset(self, in_stream, **kwargs) -> tablib.Dataset:
        if isinstance(in_stream, bytes):
            in_stream = in_stream.decode(self.encoding or "utf-8-sig")
        first_line = in_stream.split("\n", 1)[0]
        delimiter = max(CSV_DELIMITERS, key=first_line.count)
        return rectangular(csv.reader(io.StringIO(in_stream, newline=""), delimiter=delimiter))


class ImportXLSX(XLSX):
    def create_dataset(self, in_stream) -> tablib.Dataset:
        # data_only: a formula's value as last calculated, not the formula.
        workbook = openpyxl.load_workbook(io.BytesIO(in_stream), read_only=True, data_only=True)
        try:
            sheet = workbook.active
            # Every <row> of the sheet, not as many as its <dimension> claims:
            # read-only openpyxl stops there, and a file saying "A1:I2" over
            # a thousand rows would be cut short without a word (and pass the
            # row limit, which the upload form reads from that claim).
            sheet.reset_dimensions()
            rows = []
            for row in sheet.rows:
                rows.append([cell.value for cell in row])
                if len(rows) > settings.IMPORT_MAX_ROWS + 1:  # the header, then the limit
                    raise TooManyRows(
                        f"The file has more than {settings.IMPORT_MAX_ROWS:,} rows; "
                        f"an import takes at most {settings.IMPORT_MAX_ROWS:,}. Split it into several files."
                    )
            return rectangular(rows)
        finally:
            workbook.close()


def first_line(content: bytes, xlsx: bool) -> list[str] | None:
    """
    The headers of a file (its first row, as text), or None when it cannot be
    read: the import reads it again and says what is wrong.
    """
    try:
        if xlsx:
            workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                row = next(workbook.active.iter_rows(max_row=1, values_only=True), ())
            finally:
                workbook.close()
            return ["" if value is None else str(value) for value in row]
        text = content[: 1 << 16].decode(
            "utf-8-sig", errors="strict" if len(content) <= 1 << 16 else "ignore"
        )
        line = text.split("\n", 1)[0]
        delimiter = max(CSV_DELIMITERS, key=line.count)
        return next(csv.reader(io.StringIO(line), delimiter=delimiter), [])
    except Exception:  # openpyxl and the codecs raise many kinds on a damaged file
        return None

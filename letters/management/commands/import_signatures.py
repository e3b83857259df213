"""
manage.py import_signatures <slug> <file.csv|file.xlsx> [--dry-run] [--dates dmy|mdy]
    [--columns "Full name=name,Affiliation=title,Timestamp=signed_on"]

Imports a spreadsheet of signatures into a letter by the rules of the staff
import (`letters.spreadsheets.resources.SignatureImportResource`): the press CSV columns
plus optional email, sort_name and website. All or nothing: with any bad row
it prints every error with its line number, stores nothing, and exits non-zero.
"""

import argparse
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from letters.models import Letter
from letters.spreadsheets.files import ImportCSV, ImportXLSX
from letters.spreadsheets.resources import (
    DATE_ORDERS,
    IMPORT_COLUMNS,
    SKIPPED_ROWS,
    SignatureImportResource,
)


class Command(BaseCommand):
    help = "Import a CSV or XLSX file of signatures into a letter (all rows or none)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="check the file and report, store nothing")
        parser.add_argument(
            "--dates",
            choices=sorted(DATE_ORDERS),
            default="",
            help="how the file writes days such as 9/10/2023: dmy (day-first) or mdy (month-first)",
        )
        parser.add_argument(
            "--columns",
            type=column_choice,
            default={},
            help='which of our columns a header is: "Full name=name,Affiliation=title,Timestamp=signed_on"',
        )

    def handle(self, *args, slug: str, file: str, dry_run: bool, dates: str, columns: dict, **options):
        if isinstance(columns, str):  # call_command(columns="…") skips the parser
            columns = column_choice(columns)
        letter = Letter.objects.filter(slug=slug).first()
        if letter is None:
            raise CommandError(f"No letter has the slug “{slug}”.")
        dataset = read_dataset(Path(file))
        result = SignatureImportResource(letter=letter, dates=dates, columns=columns).import_data(
            dataset, dry_run=dry_run, raise_errors=False
        )
        problems = [f"{error.error}" for error in result.base_errors]
        for number, errors in result.row_errors():
            problems += [f"Line {number + 1}: {error.error}" for error in errors]
        for row in result.invalid_rows:
            for column, messages in row.error_dict.items():
                problems += [f"{message} ({column})" for message in messages]
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(
                f"Nothing was imported: {len(problems)} error{'s' if len(problems) != 1 else ''}."
            )
        totals = result.totals
        verb = "Would import" if dry_run else "Imported"
        summary = f"{verb} {totals['new']} signatures into “{letter}”"
        if totals["skip"]:
            summary += f"; skipped {totals['skip']} rows ({SKIPPED_ROWS})"
        self.stdout.write(summary + ".")


def column_choice(text: str) -> dict[str, str]:
    """ "Full name=name,Affiliation=title" -> {"Full name": "name", "Affiliation": "title"}."""
    chosen = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        header, _, column = pair.rpartition("=")
        if not header.strip() or column.strip() not in IMPORT_COLUMNS:
            raise argparse.ArgumentTypeError(
                f"“{pair}” is not HEADER=COLUMN, COLUMN one of {', '.join(IMPORT_COLUMNS)}."
            )
        chosen[header.strip()] = column.strip()
    return chosen


def read_dataset(path: Path):
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.")
    try:
        if suffix == ".xlsx":
            return ImportXLSX().create_dataset(data)
        if suffix in {".csv", ".txt"}:
            return ImportCSV().create_dataset(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
    except Exception as error:  # openpyxl and tablib raise many kinds on a damaged file
        raise CommandError(f"Cannot read {path} as {suffix[1:].upper()}: {error}")
    raise CommandError("The file must end in .csv or .xlsx.")

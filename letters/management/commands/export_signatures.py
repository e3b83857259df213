"""
manage.py export_signatures <slug> [--as-of YYYY-MM-DD] [--output FILE]

The press CSV of a letter's roster (the columns of docs/design.md, "Press CSV"),
the same file as /letters/<slug>/signatories.csv, for scripts. It reads the
roster through `letters.rosters.Roster` like every other output.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from letters.models import Letter
from letters.outputs.press import csv_chunks
from letters.rosters import AsOfError, Roster


class Command(BaseCommand):
    help = "Write the press CSV of a letter's signatories (as of a day) to standard output or a file."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--as-of", dest="as_of", help="YYYY-MM-DD in the letter's time zone (default today)"
        )
        parser.add_argument("--output", help="write to this file instead of standard output")

    def handle(self, *args, slug: str, as_of: str | None, output: str | None, **options) -> None:
        letter = Letter.objects.filter(slug=slug).first()
        if letter is None:
            raise CommandError(f"No letter has the slug “{slug}”.")
        try:
            roster = Roster.for_request(letter, as_of)
        except AsOfError as error:
            raise CommandError(str(error))
        if output:
            with Path(output).open("wb") as file:
                for chunk in csv_chunks(roster):
                    file.write(chunk)
            return
        # Standard output is read by scripts: no byte-order mark (files keep it for Excel).
        text = b"".join(csv_chunks(roster)).decode().removeprefix("\ufeff")
        self.stdout.write(text, ending="")

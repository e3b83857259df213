"""
What the press downloads: the CSV and the JSON of a list as of a day, with the
spreadsheet formula guard that every file people open in Excel needs.
"""

import csv
import io
from collections.abc import Iterator

from letters.rosters import PUBLIC_FIELDS, Roster

# A cell that starts with one of these is a formula to a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: str) -> str:
    """Prefix a cell that starts like a formula with an apostrophe, which spreadsheets show as text."""
    if value and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def unescape_formula(value: str) -> str:
    """Undo `escape_formula` on a cell read back from one of our files."""
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


CSV_COLUMNS = list(PUBLIC_FIELDS)
# Rows written to the buffer before it is handed to the client: small enough
# that a 100,000-row list never sits in memory, large enough to keep writes few.
CSV_ROWS_PER_CHUNK = 500


def csv_chunks(roster: Roster) -> Iterator[bytes]:
    """The press CSV as UTF-8 bytes with a byte-order mark, a few hundred rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # so Excel reads the accents as UTF-8
    # A letter whose text changed after people signed says which version each signed;
    # one with a single version keeps the six columns every reader of ours expects.
    versioned = roster.has_text_versions
    writer.writerow([*CSV_COLUMNS, "text_version"] if versioned else CSV_COLUMNS)
    for n, entry in enumerate(roster.iter_entries(), start=1):
        # type and signed_on are ours ("individual", "2023-09-21"); the four others come from people.
        row = (
            entry.type,
            escape_formula(entry.name),
            escape_formula(entry.title),
            escape_formula(entry.acronym),
            escape_formula(entry.country),
            entry.signed_on.isoformat(),
        )
        writer.writerow((*row, entry.text_version) if versioned else row)
        if n % CSV_ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def roster_json(roster: Roster) -> dict:
    """The JSON export, as docs/design.md, "JSON" describes it."""
    return {
        "letter": {"slug": roster.letter.slug, "title": roster.letter.title},
        "as_of": roster.as_of.isoformat(),
        "counts": roster.counts,
        "signatories": [entry.as_dict() for entry in roster.entries()],
    }

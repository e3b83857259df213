"""
The print version of a letter and its list: the page a visitor prints, and the
HTML the PDF is rendered from. Its papers, and the names of downloaded files.
"""

import datetime as dt

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from letters.languages import LetterVersions, interface_language
from letters.models import Letter
from letters.rosters import Roster

PAPERS = {"a4": "A4", "letter": "US Letter"}
DEFAULT_PAPER = "a4"


class PaperError(ValueError):
    """A `?paper=` we do not print on; the message is for the visitor."""


def paper_for_request(raw: str | None) -> str:
    paper = (raw or DEFAULT_PAPER).strip().lower()
    if paper not in PAPERS:
        raise PaperError(_("Paper must be “a4” or “letter”, not “%(value)s”.") % {"value": (raw or "")[:20]})
    return paper


def main_version(letter: Letter) -> LetterVersions:
    return LetterVersions(letter, interface_language(letter.language))


def print_html(roster: Roster, paper: str, versions: LetterVersions | None = None) -> str:
    """The print version: the letter as delivered, then the roster, in one language."""
    versions = versions or main_version(roster.letter)
    context = {"letter": roster.letter, "roster": roster, "paper": paper, "versions": versions}
    with translation.override(versions.language):
        return render_to_string("letters/print.html", context)


def dated_filename(slug: str, as_of: dt.date, extension: str, what: str = "", language: str = "") -> str:
    """`civic-space-as-of-2023-09-21.pdf`, `civic-space-signatories-as-of-2023-09-21.csv`, `…-21-ko.docx`."""
    middle = f"-{what}" if what else ""
    suffix = f"-{language}" if language else ""
    return f"{slug}{middle}-as-of-{as_of.isoformat()}{suffix}.{extension}"

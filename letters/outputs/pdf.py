"""
The PDF of a letter and its list, rendered by WeasyPrint from the print
version (letters/outputs/printing.py) and kept in the PDF cache
(letters/outputs/cache.py) under the roster's state.
"""

import datetime as dt
import logging
import mimetypes

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.tasks import task
from django.utils import timezone, translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from letters.languages import LetterVersions, interface_language
from letters.models import Letter
from letters.outputs.cache import (
    PDF_CACHE_SECONDS,
    PDF_NOTE_PREFIX,
    PDF_PREFIX,
    pdf_cache_add,
    pdf_cache_get,
    pdf_cache_set,
    pdf_key,
)
from letters.outputs.printing import main_version, print_html
from letters.outputs.typst import TypstError, render_pdf_typst
from letters.rosters import Roster

logger = logging.getLogger(__name__)

# The PDF is rendered for this made-up origin; StaticOnlyFetcher answers the
# requests for our own static files and refuses everything else.
PDF_BASE_URL = "https://undersigned.invalid/"

# A request must end within gunicorn's timeout (30 s): a longer list is
# rendered by a django.tasks worker while the visitor waits on a page that
# reloads. Typst lays out 11,000 names in 2 s (4 to 5 s on a busy 2-core
# machine, bench/pdf_engines.py); WeasyPrint takes about 5 ms a name (7 s for
# 1,500 in two columns).
PDF_INLINE_MAX_ENTRIES = 20_000
WEASYPRINT_INLINE_MAX_ENTRIES = 1500
PDF_QUEUED_SECONDS = 10 * 60


class StaticOnlyFetcher(URLFetcher):
    """Serves our own static files (the print stylesheet) to WeasyPrint; fetches nothing else."""

    def fetch(self, url, headers=None):
        prefix = PDF_BASE_URL.rstrip("/") + settings.STATIC_URL  # "/static/"
        if url.startswith(prefix):
            name = url.removeprefix(prefix).split("?")[0]
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            # The source folders first (development, tests); then the collected
            # files, where production's hashed names ("print.3f2a….css") live.
            if path := finders.find(name):
                with open(path, "rb") as file:
                    return URLFetcherResponse(url, file.read(), {"Content-Type": content_type})
            if staticfiles_storage.location and staticfiles_storage.exists(name):
                with staticfiles_storage.open(name) as file:
                    return URLFetcherResponse(url, file.read(), {"Content-Type": content_type})
        raise ValueError(f"The PDF may only use the site's static files, not {url[:100]}")


def render_pdf(roster: Roster, paper: str, versions: LetterVersions | None = None) -> bytes:
    if settings.PDF_ENGINE == "typst":
        try:
            return render_pdf_typst(roster, paper, versions)
        except TypstError as error:
            # A letter Typst refuses to lay out (PDF/UA forbids something it
            # holds) still gets its PDF, the slow way. The log names the letter
            # and the kind of error, never the error's text: it may quote a name.
            message = getattr(error, "message", None) or (error.args[0] if error.args else "")
            kind = str(message).split(":")[0][:40]
            logger.error(
                "Typst could not lay out the PDF of letter %s (%s): WeasyPrint did", roster.letter.pk, kind
            )
    return render_pdf_weasyprint(roster, paper, versions)


def render_pdf_weasyprint(roster: Roster, paper: str, versions: LetterVersions | None = None) -> bytes:
    html = print_html(roster, paper, versions)
    document = HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=StaticOnlyFetcher())
    # PDF/UA-1: a tagged PDF (headings, lists, reading order, language), so
    # that screen readers can follow the letter and its list.
    return document.write_pdf(pdf_variant="pdf/ua-1")


def pdf_of_state(roster: Roster, paper: str, state: str, versions: LetterVersions | None = None) -> bytes:
    """
    The PDF of `roster` in `state` (its `state()` as read, or `read_now()`):
    stored, or rendered now and stored, in the language of `versions` (the
    letter's own by default).
    """
    versions = versions or main_version(roster.letter)  # a delivery: the letter's own language
    with translation.override(versions.language):
        key = pdf_key(roster.letter.pk, roster.as_of, paper, state)
        latest = latest_key(roster.letter.pk, roster.as_of, paper)
    pdf = pdf_cache_get(key)
    if pdf is None:
        moment = state_moment(roster.letter.pk, state)
        # Printed under the day: which moment's list this is (templates/letters/print.html).
        roster.list_moment = moment
        pdf = render_pdf(roster, paper, versions)
        pdf_cache_set(key, pdf, PDF_CACHE_SECONDS)
        _newest_is(latest, key, moment)
    return pdf


def state_moment(letter_id: int, state: str) -> dt.datetime:
    """
    The moment a state of a letter's list was first printed, the same for
    every PDF of that state while any is stored (a PDF of one state is the
    same bytes each time it is rendered): the list as it stood then.
    """
    key = f"{PDF_NOTE_PREFIX}{letter_id}:moment:{state}"
    now = timezone.now().replace(second=0, microsecond=0)
    if pdf_cache_add(key, now, PDF_CACHE_SECONDS):
        return now
    return pdf_cache_get(key) or now


def latest_key(letter_id: int, as_of: dt.date, paper: str) -> str:
    """Where the newest PDF of a letter's day, paper and language is noted (forget_pdfs forgets it too)."""
    return pdf_key(letter_id, as_of, paper, "newest").replace(PDF_PREFIX, PDF_NOTE_PREFIX, 1)


def _newest_is(latest: str, key: str, moment: dt.datetime) -> None:
    """Notes the PDF under `key` as the newest of its day, unless a newer one is noted already."""
    noted = pdf_cache_get(latest)
    if isinstance(noted, dict) and noted.get("moment") and noted["moment"] > moment:
        return
    pdf_cache_set(latest, {"key": key, "moment": moment}, PDF_CACHE_SECONDS)


def pdf_newest(roster: Roster, paper: str) -> tuple[bytes, dt.datetime] | None:
    """
    The newest PDF rendered of the roster's day (in the request's language),
    of whatever state, and the moment of its list; None if none is stored.
    """
    noted = pdf_cache_get(latest_key(roster.letter.pk, roster.as_of, paper))
    if not isinstance(noted, dict):
        return None
    pdf = pdf_cache_get(noted.get("key", ""))
    return (pdf, noted["moment"]) if pdf is not None else None


def renders_later(roster: Roster) -> bool:
    """Whether the roster's PDF is too long to render within a request: a worker renders it."""
    return roster.signatures().count() > inline_max_entries()


def pdf_stored(roster: Roster, paper: str) -> bytes | None:
    """The PDF of the roster's state as the request read it (no query), if it was rendered."""
    return pdf_cache_get(pdf_key(roster.letter.pk, roster.as_of, paper, roster.state()))


def pdf_for_visitor(roster: Roster, paper: str, versions: LetterVersions | None = None) -> bytes | None:
    """
    The PDF for a visitor: stored, rendered now for a list short enough to
    render within a request, or else by a worker (None until it is done).
    """
    if (pdf := pdf_stored(roster, paper)) is not None:
        return pdf
    if not renders_later(roster):
        return pdf_of_state(roster, paper, roster.state(), versions)
    render_later(roster, paper)
    return pdf_stored(roster, paper)  # already there when tasks run at once (tests)


def render_later(roster: Roster, paper: str) -> None:
    """
    Queues the render of the roster's current state, once however many
    visitors ask for it meanwhile. With the cache out of reach nothing is
    queued (a worker's PDF could not be stored for the visitor to fetch): the
    visitor is asked to come back (503).
    """
    key = pdf_key(roster.letter.pk, roster.as_of, paper, roster.state())
    if pdf_cache_add(f"{key}:queued", True, PDF_QUEUED_SECONDS):
        render_pdf_later.enqueue(
            letter_id=roster.letter.pk,
            as_of=roster.as_of.isoformat(),
            paper=paper,
            language=translation.get_language() or "",
        )


def inline_max_entries() -> int:
    return PDF_INLINE_MAX_ENTRIES if settings.PDF_ENGINE == "typst" else WEASYPRINT_INLINE_MAX_ENTRIES


@task
def render_pdf_later(*, letter_id: int, as_of: str, paper: str, language: str = "") -> None:
    letter = Letter.objects.get(pk=letter_id)
    versions = LetterVersions(letter, language or interface_language(letter.language))
    with translation.override(versions.language):
        roster = Roster(letter, dt.date.fromisoformat(as_of))
        if pdf_cache_get(pdf_key(letter_id, roster.as_of, paper, roster.state_now())) is None:
            pdf_of_state(roster, paper, roster.read_now(), versions)

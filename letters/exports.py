"""
How a roster leaves the site: the print page's HTML, the PDF rendered from it
(and cached), the press CSV and the JSON. Everything reads a `Roster`.
"""

import csv
import datetime as dt
import functools
import io
import mimetypes
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router, transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .languages import LetterVersions, interface_language
from .models import Letter
from .pagecache import rendering_digest
from .rosters import PUBLIC_FIELDS, Roster
from .spreadsheets import escape_formula

PAPERS = {"a4": "A4", "letter": "US Letter"}
PRINT_TEMPLATES = [
    "letters/print.html",
    "letters/_version_notice.html",
    "letters/_letter_text.html",
    "letters/_roster.html",
]
DEFAULT_PAPER = "a4"

CSV_COLUMNS = list(PUBLIC_FIELDS)
# Rows written to the buffer before it is handed to the client: small enough
# that a 100,000-row list never sits in memory, large enough to keep writes few.
CSV_ROWS_PER_CHUNK = 500

# The PDF is rendered for this made-up origin; StaticOnlyFetcher answers the
# requests for our own static files and refuses everything else.
PDF_BASE_URL = "https://undersigned.invalid/"

# Long enough to outlive any news cycle; the key changes whenever the roster does.
PDF_CACHE_SECONDS = 30 * 24 * 3600
# WeasyPrint lays out about 5 ms a name (7 s for 1,500 in two columns) and a
# request must end within gunicorn's timeout (30 s): a longer list is rendered
# by a django.tasks worker while the visitor waits on a page that reloads.
PDF_INLINE_MAX_ENTRIES = 1500
PDF_QUEUED_SECONDS = 10 * 60


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
    html = print_html(roster, paper, versions)
    document = HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=StaticOnlyFetcher())
    # PDF/UA-1: a tagged PDF (headings, lists, reading order, language), so
    # that screen readers can follow the letter and its list.
    return document.write_pdf(pdf_variant="pdf/ua-1")


@functools.cache
def layout_version() -> str:
    """Changes with the print templates and stylesheet, so a deployed new look is not hidden by the cache."""
    digest = rendering_digest(PRINT_TEMPLATES)
    if stylesheet := finders.find("css/print.css"):
        digest.update(Path(stylesheet).read_bytes())
    return digest.hexdigest()[:12]


def pdf_cache():
    """Rendered PDFs: a cache of their own, so culling them never resets a rate limit."""
    return caches["pdfs"]


def pdf_cache_key(letter_id: int, as_of: dt.date, paper: str, fingerprint: str) -> str:
    language = translation.get_language()
    return f"letter-pdf:{letter_id}:{layout_version()}:{language}:{as_of.isoformat()}:{paper}:{fingerprint}"


def forget_pdfs(letter_id: int) -> int:
    """
    Removes every cached PDF of a letter (after a name is erased from its
    list: the cached files of earlier states still print it). Returns how many.
    """
    pdfs = pdf_cache()
    marker = f"letter-pdf:{letter_id}:"
    if isinstance(pdfs, RedisCache):
        client = pdfs._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"*:{marker}*"))
        return client.delete(*keys) if keys else 0
    if isinstance(pdfs, DatabaseCache):
        db = connections[router.db_for_write(pdfs.cache_model_class)]
        with db.cursor() as cursor:
            table = db.ops.quote_name(pdfs._table)
            cursor.execute(f"DELETE FROM {table} WHERE cache_key LIKE %s", [f"%:{marker}%"])  # noqa: S608
            return cursor.rowcount
    if isinstance(pdfs, LocMemCache):
        keys = [key for key in list(pdfs._cache) if f":{marker}" in key]
        for key in keys:
            pdfs._cache.pop(key, None)
            pdfs._expire_info.pop(key, None)
        return len(keys)
    raise NotImplementedError(f"Cannot forget PDFs in {type(pdfs).__name__}")


def read_for_pdf(roster: Roster) -> str:
    """
    Reads the list and its fingerprint in one transaction and returns the
    fingerprint, so that a PDF cached under it shows exactly that state.
    """
    with transaction.atomic():
        fingerprint = roster.fingerprint()
        roster.sections  # noqa: B018 - read now, inside the transaction
    return fingerprint


def pdf_of_read_roster(
    roster: Roster, paper: str, fingerprint: str, versions: LetterVersions | None = None
) -> bytes:
    """
    The PDF of a roster already read (see `read_for_pdf`), from the cache or
    rendered and cached, in the language of `versions` (the letter's own by default).
    """
    versions = versions or main_version(roster.letter)  # a delivery: the letter's own language
    with translation.override(versions.language):
        key = pdf_cache_key(roster.letter.pk, roster.as_of, paper, fingerprint)
    pdf = pdf_cache().get(key)
    if pdf is None:
        pdf = render_pdf(roster, paper, versions)
        pdf_cache().set(key, pdf, PDF_CACHE_SECONDS)
    return pdf


def cached_pdf(roster: Roster, paper: str, versions: LetterVersions | None = None) -> bytes:
    """The PDF of this roster, rendered once per letter, day, paper, language and roster state."""
    pdf = pdf_cache().get(pdf_cache_key(roster.letter.pk, roster.as_of, paper, roster.fingerprint()))
    if pdf is None:
        pdf = pdf_of_read_roster(roster, paper, read_for_pdf(roster), versions)
    return pdf


def pdf_if_cached(roster: Roster, paper: str) -> bytes | None:
    """The PDF of the roster's state as the request read it (no query), if it was rendered."""
    return pdf_cache().get(pdf_cache_key(roster.letter.pk, roster.as_of, paper, roster.public_state()))


def pdf_for_download(roster: Roster, paper: str, versions: LetterVersions | None = None) -> bytes | None:
    """
    The PDF for a visitor: from the cache, rendered now for a list short enough
    to render within a request, or else by a worker (None until it is done).
    """
    key = pdf_cache_key(roster.letter.pk, roster.as_of, paper, roster.public_state())
    if (pdf := pdf_cache().get(key)) is not None:
        return pdf
    if roster.signatures().count() <= PDF_INLINE_MAX_ENTRIES:
        return pdf_of_read_roster(roster, paper, roster.public_state(), versions)
    # One worker per PDF, however many visitors ask for it meanwhile.
    if pdf_cache().add(f"{key}:queued", True, PDF_QUEUED_SECONDS):
        render_pdf_later.enqueue(
            letter_id=roster.letter.pk,
            as_of=roster.as_of.isoformat(),
            paper=paper,
            language=translation.get_language() or "",
        )
    return pdf_cache().get(key)  # already there when tasks run at once (tests)


@task
def render_pdf_later(*, letter_id: int, as_of: str, paper: str, language: str = "") -> None:
    letter = Letter.objects.get(pk=letter_id)
    versions = LetterVersions(letter, language or interface_language(letter.language))
    with translation.override(versions.language):
        cached_pdf(Roster(letter, dt.date.fromisoformat(as_of)), paper, versions)


def dated_filename(slug: str, as_of: dt.date, extension: str, what: str = "", language: str = "") -> str:
    """`civic-space-as-of-2023-09-21.pdf`, `civic-space-signatories-as-of-2023-09-21.csv`, `…-21-ko.docx`."""
    middle = f"-{what}" if what else ""
    suffix = f"-{language}" if language else ""
    return f"{slug}{middle}-as-of-{as_of.isoformat()}{suffix}.{extension}"


def csv_chunks(roster: Roster) -> Iterator[bytes]:
    """The press CSV as UTF-8 bytes with a byte-order mark, a few hundred rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # so Excel reads the accents as UTF-8
    writer.writerow(CSV_COLUMNS)
    for n, entry in enumerate(roster.iter_entries(), start=1):
        # type and signed_on are ours ("individual", "2023-09-21"); the four others come from people.
        writer.writerow(
            (
                entry.type,
                escape_formula(entry.name),
                escape_formula(entry.title),
                escape_formula(entry.acronym),
                escape_formula(entry.country),
                entry.signed_on.isoformat(),
            )
        )
        if n % CSV_ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def roster_json(roster: Roster) -> dict:
    """The JSON export, as PRODUCT.md "JSON" describes it."""
    return {
        "letter": {"slug": roster.letter.slug, "title": roster.letter.title},
        "as_of": roster.as_of.isoformat(),
        "counts": roster.counts,
        "signatories": [entry.as_dict() for entry in roster.entries()],
    }

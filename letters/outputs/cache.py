"""
Public pages and exports of a letter's list, rendered once per state of the list.

A letter that goes viral is read a hundred times for every signature. Each
page and export (letter page, print page, CSV, JSON) is kept under a key made
only of what a visitor can see change: the letter row's `roster_version`
(bumped in the very transaction that changes its public list) and
`updated_at`, the day, today, the language and the page's own options. The
request already reads that row, so a warm request costs one query and never
the list; a name approved a moment ago is on the very next request, and a
pending or rejected signature changes nothing a visitor can observe (body or
ETag).

Bodies are files on this host (PAGE_CACHE_DIR), sent with sendfile like a
static file: nothing is shared between hosts because nothing needs to be (the
key says what is in the file; each host renders each state once). At most
PAGE_CACHE_MAX_FILES files and PAGE_CACHE_MAX_BYTES bytes are kept; past
either the oldest go first, so asking for many days or pages cannot fill the
disk (the print page of a 10,000-name letter is almost 2 MB).

Anonymous visitors get an ETag (304 on If-None-Match) and
`Cache-Control: public, max-age=PUBLIC_CACHE_SECONDS` so a CDN can take a
spike; staff always get the live page, never stored.

A visitor whose browser accepts gzip (every browser, every CDN) is sent the
body compressed, as WhiteNoise sends static files: compressed once per state
and stored beside the plain body, so that the print page of 10,000 names
crosses the network as 60 kB instead of 1.8 MB without costing a request any
CPU.
"""

import datetime as dt
import fcntl
import gzip
import hashlib
import importlib.metadata
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError, connections, router
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from redis.exceptions import RedisError

from letters.rosters import Roster
from staff.access import is_staff

logger = logging.getLogger(__name__)

# What a cache backend raises when its server is gone, slow or locked: Redis
# refusing or timing out (RedisError; the socket's own errors are OSError), the
# database cache's table locked or unreachable. Whoever reads a cache treats
# these as "not there" rather than answering 500.
CACHE_ERRORS = (RedisError, DatabaseError, sqlite3.Error, OSError)

# Bodies up to this size are read and sent as one piece; larger ones go out
# with sendfile, as WhiteNoise sends a static file. `stream=True` always does.
IN_MEMORY_MAX_BYTES = 256 * 1024
FILE_BLOCK_BYTES = 256 * 1024

ACCEPTS_GZIP = re.compile(r"\bgzip\b")  # as django.middleware.gzip reads Accept-Encoding

# Exports whose bytes depend on the list alone: not on today, nor on the language.
DATA_KINDS = {"csv", "json"}

# What shapes a body besides the data: the deployed code and assets that turn a
# letter and its list into a page, a PDF or a Word file (templates and their
# tags, date formats, catalogues, Markdown, stylesheets, the code that renders),
# and the libraries that lay them out. No list to keep: every file goes in.
RENDERING_SOURCES = {
    "letters": "**/*.py",
    "signatories": "**/*.py",
    "templates": "**/*",
    "static": "**/*",
    "locale": "**/*.po",
    "config/formats": "**/*.py",
}
RENDERING_LIBRARIES = [
    "Django",
    "weasyprint",
    "typst",
    "pikepdf",
    "python-docx",
    "Markdown",
    "nh3",
    "django-countries",
    "pyuca",
]


@cache
def rendering_version() -> str:
    """
    A digest of the deployed rendering code and assets, in every stored
    body's key: a deploy that changes how anything prints renews them all.
    Computed once, at start-up (letters.apps).
    """
    digest = hashlib.sha256()
    base = Path(settings.BASE_DIR)
    for folder, pattern in RENDERING_SOURCES.items():
        for path in sorted((base / folder).glob(pattern)):
            if path.is_file() and not {"migrations", "__pycache__"} & set(path.parts):
                digest.update(str(path.relative_to(base)).encode())
                digest.update(path.read_bytes())
    for name in RENDERING_LIBRARIES:
        digest.update(f"{name}=={importlib.metadata.version(name)}".encode())
    return digest.hexdigest()[:12]


def page_key(roster: Roster, kind: str, *options: object) -> str:
    """
    What the body of `kind` shows depends on, and nothing else: read from the
    letter row the request holds (no query).
    """
    parts = [kind, rendering_version(), roster.state(), roster.letter.status, *options]
    if kind not in DATA_KINDS:
        # Pages show today's date (the day picker) and speak the visitor's language.
        parts += [roster.today.isoformat(), translation.get_language()]
    # Kept in a folder per letter, so that a letter's pages can be forgotten at once.
    return f"{roster.letter.pk}/{hashlib.sha256(repr(parts).encode()).hexdigest()[:40]}"


def etag_for(key: str, *, gzipped: bool = False) -> str:
    return f'"{key.rsplit("/", 1)[-1][:32]}{"-gzip" if gzipped else ""}"'


def public_headers(response: HttpResponse, etag: str) -> HttpResponse:
    response.headers["ETag"] = etag
    patch_cache_control(response, public=True, max_age=settings.PUBLIC_CACHE_SECONDS)
    return response


def private_headers(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_store=True)
    return response


def _path(key: str) -> Path:
    return Path(settings.PAGE_CACHE_DIR) / key


def _store(key: str, chunks: Iterable[bytes]) -> Path:
    """Writes the body beside its final name and renames it there, so no reader sees half a file."""
    path = _path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _cull()
    return path


def _render_once(key: str, render: Callable[[], Iterable[bytes]]):
    """
    Renders a missing body once however many visitors ask at the same moment
    (after each approval, a viral letter's readers all miss at once): the
    first holds a lock on this host while it renders, the others wait for it
    and read its file.
    """
    path = _path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.parent / f".lock-{path.name}"
    lock = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return path.open("rb")
        except FileNotFoundError:
            return _store(key, render()).open("rb")
    finally:
        os.close(lock)  # releases the lock
        lock_path.unlink(missing_ok=True)


# A process that only reads stored pages still culls now and then, so that a
# file naming someone erased through another host goes within a day anyway.
CULL_EVERY_SECONDS = 3600
# None: this process has not culled yet, so its first stored-page request does.
# (Not 0.0: time.monotonic() counts from the machine's boot, and a machine up
# for less than an hour would not cull before its first hour was over.)
_last_cull: float | None = None


def _cull_now_and_then() -> None:
    if _last_cull is None or time.monotonic() - _last_cull > CULL_EVERY_SECONDS:
        _cull()


def _cull() -> None:
    """
    Past PAGE_CACHE_MAX_FILES the oldest third goes; past PAGE_CACHE_MAX_BYTES
    the oldest go until the rest fit; a file older than a day always goes (its
    key holds the day: nobody can be sent it again, and it may hold a name
    erased since).
    """
    global _last_cull
    _last_cull = time.monotonic()
    files = sorted(((entry, entry.stat()) for entry in _entries()), key=lambda pair: pair[1].st_mtime)
    excess = max(1, len(files) // 3) if len(files) > settings.PAGE_CACHE_MAX_FILES else 0
    day_ago = time.time() - 24 * 3600
    kept_bytes = sum(stat.st_size for _, stat in files)
    for n, (entry, stat) in enumerate(files):
        # The newest stays whatever its size: it was stored for a visitor waiting to be sent it.
        too_many_bytes = kept_bytes > settings.PAGE_CACHE_MAX_BYTES and n < len(files) - 1
        if n < excess or stat.st_mtime < day_ago or too_many_bytes:
            Path(entry.path).unlink(missing_ok=True)
            kept_bytes -= stat.st_size


def forget_letter(letter_id: int) -> None:
    """Removes every stored page of a letter on this host (after a name is erased from its list)."""
    shutil.rmtree(Path(settings.PAGE_CACHE_DIR) / str(letter_id), ignore_errors=True)


def _entries() -> list[os.DirEntry]:
    root = Path(settings.PAGE_CACHE_DIR)
    if not root.is_dir():
        return []
    entries = []
    for folder in os.scandir(root):
        if folder.is_dir():
            # Skips the files being written (".tmp-…") and the render locks (".lock-…").
            entries.extend(e for e in os.scandir(folder.path) if e.is_file() and not e.name.startswith("."))
    return entries


def stored_count() -> int:
    return len(_entries())


def stored_bytes() -> int:
    return sum(entry.stat().st_size for entry in _entries())


def clear() -> None:
    for entry in _entries():
        Path(entry.path).unlink(missing_ok=True)


def respond(
    request: HttpRequest,
    key: str | None,
    render: Callable[[], Iterable[bytes]],
    *,
    content_type: str,
    headers: dict[str, str] | None = None,
    stream: bool = False,
    compress: bool = True,
) -> HttpResponse:
    """
    The response for a public body under `key`: 304 when the visitor has it,
    else the stored file, else rendered (by `render`, as byte chunks), stored
    and sent (streamed when `stream`; gzip-compressed for a client that accepts
    it unless not `compress`). Without a key it is rendered each time (a
    search). Staff get it rendered and marked private.
    """
    if is_staff(request) or key is None:
        if stream:
            response = StreamingHttpResponse(render(), content_type=content_type, headers=headers)
        else:
            response = HttpResponse(b"".join(render()), content_type=content_type, headers=headers)
        if key is None and not is_staff(request):
            patch_cache_control(response, public=True, max_age=settings.PUBLIC_CACHE_SECONDS)
            return response
        return private_headers(response)
    _cull_now_and_then()
    gzipped = compress and bool(ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")))
    etag = etag_for(key, gzipped=gzipped)
    if (not_modified := get_conditional_response(request, etag=etag)) is not None:
        return _variant_headers(public_headers(not_modified, etag), gzipped)
    file = _open(f"{key}.gz", lambda: _gzipped(key, render)) if gzipped else _open(key, render)
    if not stream and os.fstat(file.fileno()).st_size <= IN_MEMORY_MAX_BYTES:
        with file:
            response = HttpResponse(file.read(), content_type=content_type)
    else:
        response = FileResponse(file, content_type=content_type)
        response.block_size = FILE_BLOCK_BYTES  # where the server has no sendfile
        del response.headers["Content-Disposition"]  # FileResponse names it after our file
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return _variant_headers(public_headers(response, etag), gzipped)


def _open(key: str, render: Callable[[], Iterable[bytes]]):
    try:
        return _path(key).open("rb")
    except FileNotFoundError:
        return _render_once(key, render)


def _gzipped(key: str, render: Callable[[], Iterable[bytes]]) -> list[bytes]:
    with _open(key, render) as plain:
        return [gzip.compress(plain.read(), compresslevel=6, mtime=0)]


def _variant_headers(response: HttpResponse, gzipped: bool) -> HttpResponse:
    # Caches keep the plain and the compressed body apart; each has its own ETag.
    patch_vary_headers(response, ["Accept-Encoding"])
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    return response


# -- PDFs: in a Django cache of their own (settings.CACHES["pdfs"]) ------------------

# Long enough to outlive any news cycle; the key changes whenever the roster does.
PDF_CACHE_SECONDS = 30 * 24 * 3600


def pdf_cache():
    """Rendered PDFs: a cache of their own, so culling them never resets a rate limit."""
    return caches["pdfs"]


def pdf_cache_get(key: str) -> bytes | None:
    """The stored PDF, or None if it is not there or the cache cannot be reached (then it is a miss)."""
    try:
        return pdf_cache().get(key)
    except CACHE_ERRORS:
        logger.warning("PDF cache unavailable: read as a miss", exc_info=True)
        return None


def pdf_cache_set(key: str, pdf: bytes, timeout: int) -> None:
    """Stores a PDF if the cache can be reached; the visitor gets it either way."""
    try:
        pdfs = pdf_cache()
        pdfs.set(key, pdf, timeout)
        if isinstance(pdfs, DatabaseCache):
            _bound_pdf_bytes(pdfs)
    except CACHE_ERRORS:
        logger.warning("PDF cache unavailable: a rendered PDF was not stored", exc_info=True)


def _bound_pdf_bytes(pdfs: DatabaseCache) -> None:
    """
    Past PDF_CACHE_MAX_BYTES (as stored: pickled and base64-encoded, a third
    more than the PDF) the PDFs stored first go first; the newest always
    stays. Redis has its own bound (maxmemory). Every PDF is kept for
    PDF_CACHE_SECONDS, so the latest to expire is the latest stored.
    """
    db = connections[router.db_for_write(pdfs.cache_model_class)]
    table = db.ops.quote_name(pdfs._table)
    with db.cursor() as cursor:
        cursor.execute(f"SELECT cache_key, LENGTH(value) FROM {table} ORDER BY expires DESC")  # noqa: S608
        kept, stale = 0, []
        for n, (key, size) in enumerate(cursor.fetchall()):
            kept += size
            if n and kept > settings.PDF_CACHE_MAX_BYTES:
                stale.append(key)
        for start in range(0, len(stale), 500):
            chunk = stale[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM {table} WHERE cache_key IN ({marks})", chunk)  # noqa: S608


def pdf_cache_add(key: str, value: object, timeout: int) -> bool:
    """
    cache.add(): True if `key` was not there and now is. False when the cache
    cannot be reached: whatever `key` marks (a queued render) could not be
    found again through it either.
    """
    try:
        return pdf_cache().add(key, value, timeout)
    except CACHE_ERRORS:
        logger.warning("PDF cache unavailable: %s not added", key.split(":", 1)[0], exc_info=True)
        return False


# A PDF's key starts with PDF_PREFIX; what is noted about a letter's PDFs (the
# newest of a day, the moment of a state: letters/outputs/pdf.py) with PDF_NOTE_PREFIX.
PDF_PREFIX = "letter-pdf:"
PDF_NOTE_PREFIX = "letter-pdf-note:"


def pdf_key(letter_id: int, as_of: dt.date, paper: str, state: str) -> str:
    language = translation.get_language()
    return f"{PDF_PREFIX}{letter_id}:{rendering_version()}:{language}:{as_of.isoformat()}:{paper}:{state}"


def forget_pdfs(letter_id: int) -> int:
    """
    Removes every cached PDF of a letter (after a name is erased from its
    list: the cached files of earlier states still print it), and what is
    noted about them. Returns how many PDFs.
    """
    _forget(f"{PDF_NOTE_PREFIX}{letter_id}:")
    return _forget(f"{PDF_PREFIX}{letter_id}:")


def _forget(marker: str) -> int:
    """Removes every key of the PDF cache that holds `marker`; returns how many."""
    pdfs = pdf_cache()
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

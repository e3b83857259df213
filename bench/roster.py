"""
Roster benchmark: how long the letter page and the exports take for a long list,
beside the cost of merely fetching the same rows.

    .venv/bin/python bench/roster.py                       # SQLite, in a fresh temporary database
    bin/with-postgres .venv/bin/python bench/roster.py     # the same on PostgreSQL
    make bench                                             # both, and the signup load test

Prints one table row per measurement: median of --repeat runs, the baseline
(`values_list` of the same roster rows for a cold render, /healthz in the same
test client for a warm one), their ratio, and the target where the issue sets one.
"""

import argparse
import atexit
import datetime as dt
import gc
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
if not os.environ.get("DATABASE_URL"):
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="undersigned-bench-")
    atexit.register(shutil.rmtree, os.environ["VAR_DIR"], ignore_errors=True)

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.data import populate, populate_people  # noqa: E402
from letters.models import Letter, Signature  # noqa: E402
from letters.outputs import cache as pagecache  # noqa: E402
from signatories.models import Individual  # noqa: E402


def median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def baseline(letter: Letter) -> None:
    """The same rows in the same order, as bare tuples: what the database alone costs."""
    rows = Signature.objects.on_roster(letter)
    list(
        rows.filter(individual__isnull=False)
        .order_by("individual__collation_key", "individual__name", "pk")
        .values_list("individual__name", "individual__title", "individual__country", "signed_at")
    )
    list(
        rows.filter(organization__isnull=False)
        .order_by("organization__collation_key", "organization__name", "pk")
        .values_list("organization__name", "organization__acronym", "organization__country", "signed_at")
    )


def awaiting_approval(letter: Letter) -> None:
    """Make `letter`'s individuals a moderation queue: confirmed, with addresses, from one network."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE letters_signature SET status = 'confirmed', ip_hash = 'one-network',"
            " submitted_at = signed_at,"
            " contact_email = (SELECT email FROM signatories_individual WHERE id = individual_id),"
            " contact_mailbox = (SELECT canonical_email FROM signatories_individual WHERE id = individual_id)"
            " WHERE letter_id = %s AND individual_id IS NOT NULL",
            [letter.pk],
        )
        if connection.vendor == "postgresql":
            # What autovacuum does within a minute of a change this large; the bench measures
            # within the second, and the planner, still counting the table as it was, took
            # 0.33 s over this page instead of 0.11 s.
            cursor.execute("ANALYZE letters_signature")


def get(client: Client, url: str) -> int:
    response = client.get(url, REMOTE_ADDR=f"198.51.100.{random.randrange(256)}")
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return len(body)


def url_exists(client: Client, url: str) -> bool:
    try:
        return client.get(url).status_code != 404
    except Exception:  # a view not built yet counts as missing
        return False


def csv_memory_growth(client: Client, url: str) -> float:
    """Peak Python memory allocated while the CSV is produced (cold) and read, in MB."""
    pagecache.clear()
    gc.collect()
    tracemalloc.start()
    response = client.get(url)
    for _chunk in response.streaming_content:
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def word_against_print(client: Client, n: int, repeat: int, row) -> None:
    """
    The Word document of a letter of `n` names, built within the request (cold),
    beside the print page of the same list, cold too: the issue allows 10x.
    """
    letter = populate(n, slug=f"word-{n}")
    urls = {
        what: f"/letters/{letter.slug}/{path}"
        for what, path in [("print", "print/"), ("word", "letter.docx")]
    }
    if not url_exists(client, urls["word"]):
        row("Word document", n, None, None, "view missing")
        return
    cold = {
        what: median_seconds(lambda url=url: (pagecache.clear(), get(client, url)), max(1, min(repeat, 3)))
        for what, url in urls.items()
    }
    row("print page, cold (the Word document's baseline)", n, cold["print"], None)
    ok = cold["word"] <= 10 * cold["print"]
    row("Word document, cold", n, cold["word"], cold["print"], "<= 10x print page, cold", ok)


def stored_pages_against_bound(client: Client, n: int) -> None:
    """
    The page cache bounded by bytes (PAGE_CACHE_MAX_BYTES): 72 print pages of one
    long letter (four days, nine languages, A4 and Letter), each about 2 MB,
    stored one after another under a bound of 32 MB; what is kept at the end
    may pass the bound by the newest page only (it is kept for the visitor
    waiting for it). Before the byte bound, 60 such pages kept 107 MB.
    """
    from django.conf import settings

    letter = Letter.objects.get(slug=f"word-{n}")
    bound = 32 * 1024 * 1024
    settings.PAGE_CACHE_MAX_BYTES, before = bound, settings.PAGE_CACHE_MAX_BYTES
    pagecache.clear()
    today = letter.today()
    largest = 0
    try:
        for days_ago in range(4):
            day = today - dt.timedelta(days=days_ago)
            for language, _name in settings.LANGUAGES:
                for paper in ("a4", "letter"):
                    url = f"/letters/{letter.slug}/print/?as_of={day}&lang={language}&paper={paper}"
                    response = client.get(url)
                    body = b"".join(response.streaming_content) if response.streaming else response.content
                    largest = max(largest, len(body))
        stored, files = pagecache.stored_bytes(), pagecache.stored_count()
    finally:
        settings.PAGE_CACHE_MAX_BYTES = before
        pagecache.clear()
    ok = stored <= bound + largest
    print(
        f"{connection.vendor} | stored pages after 72 print pages of one letter | {n:,}"
        f" | {stored / 1e6:.1f} MB in {files} files | bound {bound / 1e6:.1f} MB"
        f" | | <= PAGE_CACHE_MAX_BYTES + the newest page | {'met' if ok else 'MISSED'}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated numbers of signatures")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pdf-size", type=int, default=1000)
    parser.add_argument(
        "--word-size", type=int, default=11000, help="signatures of the Word document's letter (0: skip)"
    )
    parser.add_argument(
        "--roll", type=int, default=100000, help="people with real-looking names, for duplicates"
    )
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    engine = connection.vendor
    client = Client()
    rows = []

    def row(
        what: str, n: int, seconds: float | None, base: float | None, target: str = "", ok: bool | None = None
    ):
        ratio = f"{seconds / base:.2f}x" if seconds is not None and base else ""
        verdict = "" if ok is None else ("met" if ok else "MISSED")
        shown = "n/a" if seconds is None else f"{seconds * 1000:.1f} ms"
        base_shown = "" if base is None else f"{base * 1000:.1f} ms"
        rows.append((engine, what, f"{n:,}", shown, base_shown, ratio, target, verdict))
        print(" | ".join(rows[-1]), flush=True)

    print("engine | measurement | signatures | median | baseline | ratio | target | result")
    pagecache.clear()
    healthz = median_seconds(lambda: get(client, "/healthz"), args.repeat * 20)
    row("/healthz (test client)", 0, healthz, None)
    # Staff see the queue on a client of their own (staff always get the live public pages).
    staff = Client()
    staff.force_login(User.objects.create_superuser("bench", "bench@example.org", "pw"))
    small = populate(100, slug="queue-of-100")
    awaiting_approval(small)
    queue_of_100 = median_seconds(
        lambda: get(staff, f"/admin/letters/signature/?letter={small.pk}"), args.repeat
    )
    row("moderation queue of 100 (staff)", 100, queue_of_100, None)
    for n in [int(size) for size in args.sizes.split(",")]:
        letter = populate(n)
        base = median_seconds(lambda letter=letter: baseline(letter), args.repeat)
        urls = {
            "letter page": f"/letters/{letter.slug}/",
            "print page": f"/letters/{letter.slug}/print/",
            "CSV": f"/letters/{letter.slug}/signatories.csv",
            "JSON": f"/letters/{letter.slug}/signatories.json",
        }
        for what, url in urls.items():
            if not url_exists(client, url):
                row(what, n, None, base, "view missing")
                continue
            # Cold: rendered from the database (the page cache emptied before each request).
            seconds = median_seconds(lambda url=url: (pagecache.clear(), get(client, url)), args.repeat)
            if what in {"letter page", "CSV"} and n == 10000:
                row(f"{what}, cold", n, seconds, base, "<= 3x baseline", seconds <= 3 * base)
            else:
                row(f"{what}, cold", n, seconds, base)
            # Warm: the same state again, as every visitor after the first gets it.
            warm = median_seconds(lambda url=url: get(client, url), args.repeat * 4)
            if what == "letter page" and n == 10000:
                row(f"{what}, warm", n, warm, healthz, "<= 5x /healthz", warm <= 5 * healthz)
            else:
                row(f"{what}, warm", n, warm, healthz)
        if n >= 100000 and url_exists(client, urls["CSV"]):
            growth = csv_memory_growth(client, urls["CSV"])
            rows.append(
                (
                    engine,
                    "CSV peak memory",
                    f"{n:,}",
                    f"{growth:.1f} MB",
                    "",
                    "",
                    "< 50 MB",
                    "met" if growth < 50 else "MISSED",
                )
            )
            print(" | ".join(rows[-1]), flush=True)
        # Last, as it takes the letter's individuals off its list: the queue's first page,
        # warnings included, against the same page of a letter of 100.
        awaiting_approval(letter)
        url = f"/admin/letters/signature/?letter={letter.pk}"
        seconds = median_seconds(lambda url=url: get(staff, url), args.repeat)
        row(
            "moderation queue (staff)",
            n,
            seconds,
            queue_of_100,
            "<= 3x a letter of 100",
            seconds <= 3 * queue_of_100,
        )

    # The individuals' duplicates page, which reads the whole table. On the
    # bench's letters, whose names differ by a number, it soon has its 200
    # pairs; a roll of real-looking names has few, so it reads every name.
    url = "/admin/signatories/individual/duplicates/"
    people = Individual.objects.count()
    seconds = median_seconds(lambda: get(staff, url), args.repeat)
    row("duplicates page (staff), names a number apart", people, seconds, None, "< 5 s", seconds < 5)
    populate_people(args.roll)
    people = Individual.objects.count()
    seconds = median_seconds(lambda: get(staff, url), args.repeat)
    row("duplicates page (staff), with a roll of names", people, seconds, None, "< 5 s", seconds < 5)

    if args.word_size:
        word_against_print(client, args.word_size, args.repeat, row)
        stored_pages_against_bound(client, args.word_size)

    letter = populate(args.pdf_size) if args.pdf_size else None
    if letter is not None:
        url = f"/letters/{letter.slug}/letter.pdf"
        if url_exists(client, url):
            caches["pdfs"].clear()
            started = time.perf_counter()
            get(client, url)
            cold = time.perf_counter() - started
            cached = median_seconds(lambda: get(client, url), args.repeat)
            row("PDF, cold", args.pdf_size, cold, None)
            row("PDF, cached", args.pdf_size, cached, None, "< 50 ms", cached < 0.05)
        else:
            row("PDF", args.pdf_size, None, None, "view missing")


if __name__ == "__main__":
    main()

"""
PDF engines benchmark: the same letter and list laid out by WeasyPrint and by
Typst (letters/outputs/pdf.py's PDF_ENGINE), beside the print page they are
both made from, rendered cold in the same run.

    .venv/bin/python bench/pdf_engines.py                    # 1,000 and 11,000 entries
    .venv/bin/python bench/pdf_engines.py --sizes 1000 --engines typst

Each render runs in a fresh process (so that one engine's fonts and caches do
not flatter the next) and reports its seconds and the process's peak resident
memory. The ceiling is the issue's: a PDF within 20x its print page's time.
Then one PDF of a list of --memory-entries (100,000) by the configured engine,
in a fresh process too: its peak resident memory (the process's and its
largest Typst child's, `resource.getrusage` ru_maxrss; past 20,000 entries a
child lays out one part, letters/outputs/typst.py) beside the goal of 1 GB;
where it is missed, the profile: a 1,000-entry list's peak, and what each
further entry adds.

    .venv/bin/python bench/pdf_engines.py --memory-entries 0   # without it
"""

import argparse
import atexit
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
if not os.environ.get("DATABASE_URL") and not os.environ.get("VAR_DIR"):
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="undersigned-bench-")
    atexit.register(shutil.rmtree, os.environ["VAR_DIR"], ignore_errors=True)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from bench.data import populate  # noqa: E402
from letters.models import Letter  # noqa: E402
from letters.outputs import cache as pagecache  # noqa: E402

CEILING = 20  # a PDF may take at most this many times its print page's cold render
MEMORY_GOAL_MB = 1024  # the peak memory of one PDF of 100,000 entries
PROFILE_ENTRIES = 1000  # a missed memory goal is explained by a short list's cost beside the long one's


def render_once(slug: str, engine: str) -> dict:
    """In this (fresh) process: one PDF of `slug` by `engine`; its seconds, size and peak memory."""
    from django.conf import settings

    from letters.outputs import pdf
    from letters.rosters import Roster

    settings.PDF_ENGINE = engine
    roster = Roster(Letter.objects.get(slug=slug))
    roster.sections  # noqa: B018 - the list is read before the clock starts: only the layout is timed
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    body = pdf.render_pdf(roster, "a4")
    first = time.perf_counter() - started
    # Again, as a server process renders every PDF after its first (fonts read, code loaded).
    started = time.perf_counter()
    pdf.render_pdf(roster, "a4")
    seconds = time.perf_counter() - started
    # kB on Linux; Typst lays out in a forked child (letters/outputs/typst.py), whose peak counts too.
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return {
        "first": first,
        "seconds": seconds,
        "bytes": len(body),
        "peak_mb": peak / 1024,
        "growth_mb": (peak - before) / 1024,
    }


def render_for_memory(slug: str) -> dict:
    """In this (fresh) process: one PDF of `slug` by the configured engine; its seconds and peak memory."""
    from letters.outputs import pdf
    from letters.rosters import Roster

    started = time.perf_counter()
    body = pdf.render_pdf(Roster(Letter.objects.get(slug=slug)), "a4")
    seconds = time.perf_counter() - started
    # kB on Linux: this process (the list read, the page made) and the child Typst lays out in.
    return {
        "seconds": seconds,
        "bytes": len(body),
        "process_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "child_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def memory_of_a_long_pdf(n: int) -> None:
    from django.conf import settings

    def measure(entries: int) -> dict:
        letter = Letter.objects.filter(slug=f"bench-{entries}").first() or populate(entries)
        child = [sys.executable, __file__, "--memory-child", letter.slug]
        return json.loads(subprocess.run(child, capture_output=True, text=True, check=True).stdout)

    result = measure(n)
    peak = max(result["process_mb"], result["child_mb"])
    verdict = "met" if peak < MEMORY_GOAL_MB else "MISSED"
    print(
        f"{n:,} | PDF, {settings.PDF_ENGINE}, peak memory | {result['seconds']:.2f} s | | |"
        f" {peak:.0f} MB (process {result['process_mb']:.0f} MB, largest layout {result['child_mb']:.0f} MB)"
        f" | | {result['bytes'] / 1e6:.1f} MB | < {MEMORY_GOAL_MB} MB: {verdict}",
        flush=True,
    )
    if verdict == "MISSED":
        # Where the memory goes, measured in the same run: what a short list costs (the fonts,
        # the letter, the page) and what each further entry adds, against what the goal allows.
        small = measure(PROFILE_ENTRIES)
        base = max(small["process_mb"], small["child_mb"])
        per_entry = (peak - base) * 1024 / (n - PROFILE_ENTRIES)
        allowed = (MEMORY_GOAL_MB - base) * 1024 / n
        print(
            f"{n:,} | profile: {PROFILE_ENTRIES:,} entries take {base:.0f} MB; each further entry"
            f" {per_entry:.1f} kB (the layout's block, its name and title runs);"
            f" the goal allows {allowed:.1f} kB an entry | | | | | | |",
            flush=True,
        )


def print_page_seconds(slug: str, repeat: int = 3) -> float:
    """The print page, rendered from the database each time (the page cache emptied), best of `repeat`."""
    client = Client()
    times = []
    for _ in range(repeat):
        pagecache.clear()
        started = time.perf_counter()
        response = client.get(f"/letters/{slug}/print/")
        b"".join(response.streaming_content) if response.streaming else response.content
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,11000", help="comma-separated numbers of entries")
    parser.add_argument("--engines", default="weasyprint,typst")
    parser.add_argument(
        "--memory-entries", type=int, default=100_000, help="entries of the PDF whose peak memory is measured"
    )
    parser.add_argument("--child", nargs=2, metavar=("SLUG", "ENGINE"), help=argparse.SUPPRESS)
    parser.add_argument("--memory-child", metavar="SLUG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(render_once(*args.child)))
        return
    if args.memory_child:
        print(json.dumps(render_for_memory(args.memory_child)))
        return

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    print("entries | what | first in its process | again | x print page | peak RSS | growth | PDF | ceiling")
    for n in [int(size) for size in args.sizes.split(",")]:
        letter = Letter.objects.filter(slug=f"bench-{n}").first() or populate(n)
        page = print_page_seconds(letter.slug)
        print(f"{n:,} | print page, cold | | {page:.2f} s | 1x | | | |", flush=True)
        for engine in args.engines.split(","):
            child = [sys.executable, __file__, "--child", letter.slug, engine]
            result = json.loads(subprocess.run(child, capture_output=True, text=True, check=True).stdout)
            ratio = result["seconds"] / page
            verdict = "met" if ratio <= CEILING else "MISSED"
            print(
                f"{n:,} | PDF, {engine} | {result['first']:.2f} s | {result['seconds']:.2f} s | {ratio:.0f}x"
                f" | {result['peak_mb']:.0f} MB"
                f" | {result['growth_mb']:.0f} MB | {result['bytes'] / 1e6:.1f} MB"
                f" | <= {CEILING}x: {verdict}",
                flush=True,
            )
    if args.memory_entries:
        memory_of_a_long_pdf(args.memory_entries)


if __name__ == "__main__":
    main()

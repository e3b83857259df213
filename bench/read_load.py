"""
Read load test: what a letter that goes viral costs. gunicorn with the production
settings on 127.0.0.1, wrk with 16 connections, each line beside its ceiling from the
same server in the same run:

- /healthz                         the request ceiling (one SELECT 1);
- letter page, print page          10,000 names: >= 0.5x /healthz; letter page of 100,000: >= 0.25x;
                                   asked for as a browser asks (Accept-Encoding: gzip), so sent
                                   compressed, as stored once per state of the list;
- CSV and JSON                     10,000 and 100,000 names: >= 0.5x the same server sending a static
                                   file of exactly the same bytes (WhiteNoise), the ceiling for them.

    .venv/bin/python bench/read_load.py                                        # SQLite, database cache
    bin/with-postgres bin/with-redis .venv/bin/python bench/read_load.py       # PostgreSQL and Redis
    make bench                                                                 # both, and the others

Also prints the kernel's TCP counters for the run (listen-queue overflows, SYN
retransmissions, TIME-WAIT sockets): the evidence for or against a connection-level tail.
"""

import argparse
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.wrk import LUA_DONE, run_wrk
from tests.live import LiveServer

TCP_COUNTERS = ["TcpExtListenOverflows", "TcpExtListenDrops", "TcpExtTCPSynRetrans", "TcpExtTW"]


def tcp_counters() -> dict[str, int]:
    """The kernel's TCP counters since the last call (nstat keeps its own history)."""
    if shutil.which("nstat") is None:
        return {}
    output = subprocess.run(["nstat", "-z"], capture_output=True, text=True).stdout
    counters = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in TCP_COUNTERS:
            counters[parts[0]] = int(parts[1])
    return counters


# What every browser sends: the pages go out compressed (letters/outputs/cache.py).
BROWSER = {"Accept-Encoding": "gzip, deflate, br"}
PAGES = {"letter page", "print page"}


def fetch(url: str, headers: dict | None = None) -> tuple[bytes, dict]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - 127.0.0.1 only
    with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310
        return response.read(), dict(response.headers)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (make bench does this).")
    sizes = [int(size) for size in args.sizes.split(",")]

    server = LiveServer(
        workers=args.workers, production=True, env={"DJANGO_SETTINGS_MODULE": "bench.settings"}
    )
    static_root = server.work / "bench-static"
    static_root.mkdir()
    server.env["BENCH_STATIC_ROOT"] = str(static_root)
    cache = "Redis" if server.env.get("REDIS_URL") else "database cache"
    engine = f"{server.engine} + {cache}"
    script = server.work / "get.lua"
    script.write_text(LUA_DONE)
    lines = []
    try:
        server.prepare()
        slugs = {}
        for n in sizes:
            slugs[n] = f"bench-{n}"
            server.python(f"from bench.data import populate\npopulate({n})\n")
        server.start()
        # The exports as the site sends them, copied as static files of exactly the same bytes:
        # WhiteNoise reads its folder when the server starts, so start it again.
        pages, static_of = {}, {}
        for n, slug in slugs.items():
            pages[("letter page", n)] = f"/letters/{slug}/"
            pages[("print page", n)] = f"/letters/{slug}/print/"
            for what, path in [("CSV", "signatories.csv"), ("JSON", "signatories.json")]:
                body, headers = fetch(f"{server.url}/letters/{slug}/{path}")
                assert "public" in headers.get("Cache-Control", ""), headers
                static = f"{slug}-{path}"
                (static_root / static).write_bytes(body)
                pages[(what, n)] = f"/letters/{slug}/{path}"
                static_of[(what, n)] = (f"static file, {what}-sized ({len(body) / 1e6:.1f} MB)", n)
                pages[static_of[(what, n)]] = f"/{static}"
        server.stop()
        server.start()
        for (what, _n), path in pages.items():
            # Rendered (and compressed) once, cold, as the first visitor would.
            fetch(server.url + path, BROWSER if what in PAGES else None)
        tcp_counters()
        healthz = run_wrk(f"{server.url}/healthz", script, args.duration, args.connections, BROWSER)
        results = {("/healthz", 0): healthz}
        for key, path in pages.items():
            headers = BROWSER if key[0] in PAGES else None
            results[key] = run_wrk(server.url + path, script, args.duration, args.connections, headers)
        tcp = tcp_counters()
    finally:
        server.close()

    print(
        "engine | measurement | names | requests/s | MB/s | p50 | p99 | errors | ceiling | ratio | target"
        " | result"
        f"   ({args.workers} workers, {args.connections} connections, {args.duration} s each)"
    )
    healthz = results[("/healthz", 0)]

    def line(what: str, n: int, data: dict, ceiling: dict | None, name: str, target: float | None) -> None:
        errors = data["status_errors"] + data["socket_errors"] + data["timeouts"]
        ratio = data["rps"] / ceiling["rps"] if ceiling else None
        verdict = "" if target is None else ("met" if ratio >= target else "MISSED")
        cells = [
            engine,
            what,
            f"{n:,}" if n else "",
            f"{data['rps']:.0f}",
            f"{data['bytes'] / (data['duration_us'] / 1e6) / 1e6:.0f}",
            f"{data['p50_us'] / 1000:.1f} ms",
            f"{data['p99_us'] / 1000:.1f} ms",
            str(errors),
            name,
            "" if ratio is None else f"{ratio:.2f}x",
            "" if target is None else f">= {target}x",
            verdict,
        ]
        lines.append(cells)
        print(" | ".join(cells), flush=True)

    line("/healthz", 0, healthz, None, "", None)
    for (what, n), data in results.items():
        if what == "/healthz":
            continue
        if what in {"letter page", "print page"}:
            target = 0.5 if n <= 10_000 else (0.25 if what == "letter page" else None)
            line(what, n, data, healthz, "/healthz", target)
        elif what in {"CSV", "JSON"}:
            static = results[static_of[(what, n)]]
            line(what, n, data, static, "static file", 0.5)
            if data["rps"] < static["rps"] / 2:
                for reckoning in what_would_close_it(data["rps"], static["rps"], healthz["rps"]):
                    print(f"{engine} | {what} of {n:,}, what would close it: {reckoning}")
        else:
            line(what, n, data, None, "", None)
    if tcp:
        print(f"{engine} | TCP during the run | " + ", ".join(f"{k} {v}" for k, v in tcp.items()))


def what_would_close_it(export: float, static: float, healthz: float) -> list[str]:
    """
    A missed export goal in the units of the run: what one request costs,
    counted in static-file requests of the same size (each rate's inverse).
    A stored export is a Django request that reads the letter's row, as
    /healthz reads one, and then the same sendfile as the static file.
    """
    alone = static / healthz
    return [
        f"the goal allows an export to cost 2.0 static files; it cost {static / export:.1f},"
        f" and /healthz alone costs {alone:.1f}",
        f"a request through Django that sends the same bytes costs at least the sum, {1 + alone:.1f}"
        f" ({1 / (1 + alone):.2f}x): the goal needs Django's request to cost less than the file it sends;"
        " otherwise a CDN or caching proxy, which the Cache-Control and ETag headers allow, answers it",
    ]


if __name__ == "__main__":
    main()

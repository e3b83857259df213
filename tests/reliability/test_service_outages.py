"""
Outages of what the application leans on, against a real gunicorn, a real task
worker and the test's own SMTP sink, each under a short load of signups: Redis
stopped, then frozen (SIGSTOP); the PostgreSQL server stopped, then started
again. Accepted = stored = mailed, each once; never a 500.

They stop the servers that bin/with-redis and bin/with-postgres started for
this run (throwaway ones) and start them again; without them they skip. The
task worker is never restarted: it waits out the outage itself.
"""

import contextlib
import glob
import os
import signal
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connections

from tests.live import Browser, LiveServer, SmtpSink, mailing_to, task_worker, wait_for

pytestmark = [pytest.mark.slow]

REDIS_URL = os.environ.get("REDIS_URL", "")
DATABASE_URL = os.environ.get("DATABASE_URL", "")
needs_redis = pytest.mark.skipif(
    not REDIS_URL.startswith("unix://"), reason="needs bin/with-redis's Redis: bin/with-redis pytest …"
)
needs_postgres = pytest.mark.skipif(
    not DATABASE_URL.startswith("postgres"),
    reason="needs bin/with-postgres's cluster: bin/with-postgres pytest …",
)

SIGN = "/letters/live/sign/"
CREATE_LETTER = (
    "from letters.models import Letter\n"
    "Letter.objects.create(slug='live', title='Live', body='Text.', status='open', requires_approval=False)\n"
)
STORED = (
    "from letters.models import Signature\nfrom signatories.models import Individual\n"
    "emails = Signature.objects.filter(letter__slug='live').values_list('individual__email', flat=True)\n"
    "print(Individual.objects.count(), *emails)\n"
)


def stored(server: LiveServer) -> tuple[int, list[str]]:
    """How many people are on file, and the address of each signature of the letter."""
    individuals, *emails = server.python(STORED).split()
    return int(individuals), sorted(emails)


@contextlib.contextmanager
def live_with_mail(**env: str) -> Iterator[tuple[LiveServer, SmtpSink, Browser, str]]:
    """A live server with a letter open for signing, its task worker and the SMTP sink it mails to."""
    sink = SmtpSink().serve()
    server = LiveServer(
        workers=2,
        env=mailing_to(sink.port, **env),
    )
    server.env["SITE_URL"] = server.url
    try:
        with server:
            server.python(CREATE_LETTER)
            server.workers_started = [task_worker(server)]
            try:
                browser = Browser(server)
                yield server, sink, browser, browser.csrf(SIGN)
            finally:
                for worker in server.workers_started:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait()
    finally:
        sink.close()


def signup(browser: Browser, token: str, address: str) -> int:
    data = {"kind": "individual", "name": f"Signer {address}", "email": address, "public_consent": "on"}
    return browser.post(SIGN, data, token)[0]


def all_mailed(sink: SmtpSink, addresses: list[str]) -> None:
    wait_for(lambda: len(sink.recipients()) >= len(addresses), 15, "every e-mail sent")
    time.sleep(1)  # anything sent twice would arrive now
    assert sorted(sink.recipients()) == sorted(addresses)  # each once


# -- Redis -------------------------------------------------------------------
def redis_folder() -> Path:
    return Path(urllib.parse.urlparse(REDIS_URL).path).parent


def redis_pid() -> int:
    return int((redis_folder() / "redis.pid").read_text())


def redis_stop() -> None:
    pid = redis_pid()
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not Path(f"/proc/{pid}").exists(), 10, "Redis stopped")


def redis_start() -> None:
    """Redis again, as bin/with-redis starts it."""
    folder = redis_folder()
    socket = folder / "redis.sock"
    subprocess.run(
        [
            "redis-server", "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700",
            "--save", "", "--appendonly", "no", "--dir", str(folder), "--pidfile", str(folder / "redis.pid"),
            "--daemonize", "yes", "--logfile", str(folder / "redis.log"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    wait_for(lambda: socket.exists() and (folder / "redis.pid").exists(), 10, "Redis started")


@needs_redis
def test_signups_while_redis_is_stopped_are_stored_and_mailed_once():
    with live_with_mail() as (server, sink, browser, token):
        before = [f"before{n}@example.org" for n in range(4)]
        during = [f"during{n}@example.org" for n in range(8)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            assert list(pool.map(lambda a: signup(browser, token, a), before)) == [302] * 4
            redis_stop()
            try:
                # Rate limits and mail caps are counted in each process meanwhile.
                statuses = list(pool.map(lambda a: signup(browser, token, a), during))
                assert browser.get("/letters/live/")[0] == 200
            finally:
                redis_start()
        assert statuses == [302] * len(during)
        assert stored(server) == (12, sorted(before + during))
        all_mailed(sink, before + during)


@needs_redis
def test_a_frozen_redis_holds_no_page_for_long():
    with live_with_mail() as (server, sink, browser, token):
        pid = redis_pid()
        os.kill(pid, signal.SIGSTOP)  # accepts connections, answers nothing
        try:
            frozen = time.monotonic()
            for path in ("/healthz", "/letters/live/", "/healthz", "/letters/live/"):
                start = time.monotonic()
                status, _ = browser.get(path)
                assert (path, status) == (path, 200)
                assert time.monotonic() - start < 2, path
            # A signup counts its rate limits in Redis: each call gives up after REDIS_TIMEOUT_SECONDS
            # (0.5 s), and the signup is answered within 3 s (20 s for three at once with 10 s).
            addresses = [f"frozen{n}@example.org" for n in range(3)]

            def timed_signup(address: str) -> tuple[int, bool]:
                start = time.monotonic()
                status = signup(browser, token, address)
                return status, time.monotonic() - start < 3

            with ThreadPoolExecutor(max_workers=3) as pool:
                answers = list(pool.map(timed_signup, addresses))
            assert answers == [(302, True)] * 3
            time.sleep(max(0.0, 5 - (time.monotonic() - frozen)))
        finally:
            os.kill(pid, signal.SIGCONT)
        assert browser.get("/letters/live/")[0] == 200
        assert stored(server) == (3, sorted(addresses))
        all_mailed(sink, addresses)


# -- PostgreSQL --------------------------------------------------------------
def pg_ctl(*args: str) -> None:
    """pg_ctl on bin/with-postgres's cluster (its socket folder holds `data`), as its owner."""
    folder = urllib.parse.unquote(urllib.parse.urlparse(DATABASE_URL).hostname or "")
    program = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
    as_owner = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    command = [*as_owner, program, "-D", f"{folder}/data", "-w", *args]
    options = (
        f"-c listen_addresses='' -k {folder} -c fsync=off -c synchronous_commit=off -c max_connections=200"
    )
    if args[-1] == "start":
        command[-1:] = ["-l", f"{folder}/server.log", "-o", options, "start"]
    subprocess.run(command, check=True, capture_output=True, timeout=30)


@needs_postgres
def test_signups_while_the_database_is_stopped_answer_503_and_lose_nothing_once_it_is_back():
    # The worker waits 0.5 s, then 1 s, 2 s at most between its tries while the database is away.
    backoff = {"TASK_WORKER_BACKOFF_FIRST_SECONDS": "0.5", "TASK_WORKER_BACKOFF_MAX_SECONDS": "2"}
    with live_with_mail(**backoff) as (server, sink, browser, token):
        statuses: dict[str, int] = {}
        stop = threading.Event()

        def load(lane: int) -> None:
            n = 0
            while not stop.is_set():
                address = f"load{lane}-{n}@example.org"
                statuses[address] = signup(browser, token, address)
                n += 1
                time.sleep(0.2)

        with ThreadPoolExecutor(max_workers=3) as pool:
            lanes = [pool.submit(load, lane) for lane in range(3)]
            wait_for(lambda: len(statuses) >= 6, 10, "signups under way")
            pg_ctl("-m", "fast", "stop")
            try:
                time.sleep(5)
                assert browser.get("/healthz")[0] == 503
            finally:
                pg_ctl("start")
                # This pytest's own connections (the tests' database, on the same cluster) are dead too.
                connections.close_all()
            time.sleep(2)
            stop.set()
            for lane in lanes:
                lane.result()

        assert set(statuses.values()) == {302, 503}, statuses  # never 500
        accepted = sorted(address for address, status in statuses.items() if status == 302)
        # What was refused was not stored, not even the person without the signature.
        assert stored(server) == (len(accepted), accepted)

        # The worker met the outage and waited for the database: the same process mails every
        # accepted signer once, with no restart (before: it exited and mail stopped for good).
        [worker] = server.workers_started
        all_mailed(sink, accepted)
        assert worker.poll() is None

        # The signers told 503 send the form again: stored and mailed once.
        refused = sorted(address for address, status in statuses.items() if status == 503)
        assert [signup(browser, token, address) for address in refused] == [302] * len(refused)
        assert stored(server) == (len(statuses), sorted(statuses))
        all_mailed(sink, sorted(statuses))
        assert worker.poll() is None

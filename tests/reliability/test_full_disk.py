"""
A full disk under SQLite: the live server's VAR_DIR (its database, rate-limit
counts and stored pages) on a small tmpfs, filled to the last byte during
signups, then freed. While it is full, signups answer 503 (never 500) and
nothing half-stored is left; the task worker waits for the disk without
exiting; once space is back, every accepted signature is mailed once by the
same worker.

Mounting needs root (`mount -t tmpfs`); elsewhere, and on PostgreSQL (whose
files are not in VAR_DIR), it skips.
"""

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.live import ROOT, Browser, LiveServer, SmtpSink, mailing_to, wait_for

pytestmark = [pytest.mark.slow]

SIGN = "/letters/live/sign/"
CREATE_LETTER = (
    "from letters.models import Letter\n"
    "Letter.objects.create(slug='live', title='Live', body='Text.', status='open', requires_approval=False)\n"
)
RECORDED = (
    "from django_tasks_db.models import DBTaskResult\n"
    "print(DBTaskResult.objects.filter(status='SUCCESSFUL').count())\n"
)
STORED = (
    "from letters.models import Signature\nfrom signatories.models import Individual\n"
    "emails = Signature.objects.filter(letter__slug='live').values_list('individual__email', flat=True)\n"
    "print(Individual.objects.count(), *emails)\n"
)
TMPFS_SIZE = "48m"


def stored(server: LiveServer) -> tuple[int, list[str]]:
    individuals, *emails = server.python(STORED).split()
    return int(individuals), sorted(emails)


def stop_outside_a_write(process: subprocess.Popen, lock: Path) -> None:
    """SIGSTOP `process` at a moment it does not hold the writers' queue (config/sqlite/base.py)."""
    for _ in range(100):
        os.kill(process.pid, signal.SIGSTOP)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            os.kill(process.pid, signal.SIGCONT)
            time.sleep(0.05)
        finally:
            os.close(fd)
    raise AssertionError("the worker never let go of the writers' queue")


@contextlib.contextmanager
def small_tmpfs(folder: Path):
    """`folder` as a tmpfs of TMPFS_SIZE, unmounted on the way out; skips where mounting is not allowed."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"this machine does not allow mounting a tmpfs: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path) -> Path:
    """Writes a file in `folder` until the disk has no byte left; the file."""
    filler = folder / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as out:
        with contextlib.suppress(OSError):
            while True:
                out.write(chunk)
        with contextlib.suppress(OSError):
            while True:
                out.write(b"\0")
    return filler


def signup(browser: Browser, token: str, address: str) -> int:
    data = {"kind": "individual", "name": f"Signer {address}", "email": address, "public_consent": "on"}
    return browser.post(SIGN, data, token)[0]


def start_worker(server: LiveServer, log: Path) -> subprocess.Popen:
    """tests.live.task_worker, its log kept (outside the full disk) to see what it met."""
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "task_worker",
            "--no-startup-delay",
            "--no-reload",
            "--interval",
            "0.2",
        ],
        cwd=ROOT,
        env=server.env | {"LOG_LEVEL": "INFO"},
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="the database is not in VAR_DIR"
)
def test_a_full_disk_refuses_signups_with_503_and_once_freed_every_accepted_signer_is_mailed_once(tmp_path):
    sink = SmtpSink().serve()
    server = LiveServer(
        workers=2,
        env=mailing_to(
            sink.port, TASK_WORKER_BACKOFF_FIRST_SECONDS="0.5", TASK_WORKER_BACKOFF_MAX_SECONDS="2"
        ),
    )
    server.env["SITE_URL"] = server.url
    log = tmp_path / "worker.log"
    try:
        with small_tmpfs(server.work), server:
            server.python(CREATE_LETTER)
            worker = start_worker(server, log)
            try:
                browser = Browser(server)
                token = browser.csrf(SIGN)
                first = [f"first{n}@example.org" for n in range(5)]
                assert [signup(browser, token, address) for address in first] == [302] * 5
                wait_for(lambda: len(sink.recipients()) >= 5, 15, "the first e-mails sent")
                wait_for(lambda: int(server.python(RECORDED)) >= 5, 30, "the first e-mails recorded")

                # Signups whose e-mails wait: the worker held still (SIGSTOP) while they come in,
                # stopped outside a write transaction (one stopped inside holds the writers' queue,
                # and the signups behind it get 503 after SQLITE_BUSY_TIMEOUT: test_live_server.py).
                stop_outside_a_write(worker, server.work / "db.sqlite3.writelock")
                waiting = [f"waiting{n}@example.org" for n in range(5)]
                answers = [signup(browser, token, address) for address in waiting]
                assert answers == [302] * 5, server.log()[-4000:]  # the server's traceback, if any

                filler = fill(server.work)
                os.kill(worker.pid, signal.SIGCONT)  # it claims their tasks on the full disk
                # Signups meet the full disk: 503 ("send it again"), never 500.
                full = {f"full{n}@example.org": 0 for n in range(6)}
                for address in full:
                    full[address] = signup(browser, token, address)
                assert set(full.values()) <= {302, 503}, full
                assert 503 in full.values(), "the full disk never refused a signup"
                wait_for(
                    lambda: "database or disk is full" in log.read_text(), 15, "the worker met the full disk"
                )
                time.sleep(2)
                assert worker.poll() is None  # waiting for the disk, not gone

                filler.unlink()  # space is back
                after = [f"after{n}@example.org" for n in range(5)]
                assert [signup(browser, token, address) for address in after] == [302] * 5

                accepted = sorted(
                    first + waiting + after + [a for a, status in full.items() if status == 302]
                )
                # Nothing half-stored: no person without their signature, nothing refused kept.
                assert stored(server) == (len(accepted), accepted)
                wait_for(lambda: len(sink.recipients()) >= len(accepted), 20, "every e-mail sent")
                time.sleep(1)  # anything sent twice would arrive now
                assert sorted(sink.recipients()) == accepted  # each once
                assert worker.poll() is None  # the same worker, never restarted
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
    finally:
        sink.close()
        shutil.rmtree(server.work, ignore_errors=True)  # the mount point, once unmounted

"""
Concurrency and faults against a real gunicorn with several workers, on SQLite
and (under bin/with-postgres) PostgreSQL. Links are read from the e-mails the
server really wrote (file-based mail backend).
"""

import email
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.live import Browser, LiveServer, free_port

pytestmark = [pytest.mark.slow]

SIGN = "/letters/live/sign/"
CREATE_LETTER = (
    "from letters.models import Letter\n"
    "Letter.objects.create(slug='live', title='Live', body='Text.', status='open', requires_approval=False)\n"
)
SET_APPROVAL = (
    "from letters.models import Letter\nLetter.objects.filter(slug='live').update(requires_approval=%s)\n"
)
COUNT = (
    "from letters.models import Signature\nfrom signatories.models import Individual\n"
    "print(Signature.objects.filter(letter__slug='live').count(), Individual.objects.count())\n"
)


def live_server(**env: str) -> LiveServer:
    server = LiveServer(
        workers=4,
        env={
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        }
        | env,
    )
    server.env["SITE_URL"] = server.url
    server.env.setdefault("EMAIL_FILE_PATH", str(server.work / "mail"))
    return server


@pytest.fixture(scope="module")
def server():
    with live_server() as running:
        running.python(CREATE_LETTER)
        yield running


def signup(browser: Browser, token: str, address: str, name: str = "Live Signer") -> int:
    status, _ = browser.post(
        SIGN,
        {"kind": "individual", "name": name, "title": "Tester", "email": address, "public_consent": "on"},
        token,
    )
    return status


def counts(server: LiveServer) -> tuple[int, int]:
    signatures, individuals = server.python(COUNT).split()
    return int(signatures), int(individuals)


def mails_to(server: LiveServer, address: str) -> list[str]:
    """The plain-text bodies of every message the server wrote to `address`."""
    folder = Path(server.env["EMAIL_FILE_PATH"])
    bodies = []
    for path in sorted(folder.glob("*.log")) if folder.exists() else []:
        for chunk in path.read_text().split("-" * 79):
            if not chunk.strip():
                continue
            message = email.message_from_string(chunk.strip())
            if address not in (message.get("To") or ""):
                continue
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    bodies.append(part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8"))
    return bodies


def link_in(bodies: list[str], kind: str) -> str:
    for body in bodies:
        if match := re.search(rf"https?://[^\s/]+(/{kind}/[^\s]+/)", body):
            return match.group(1)
    raise AssertionError(f"no /{kind}/ link in {bodies!r}")


def confirm(server, link: str) -> int:
    """Press the button of the confirmation page (its form's token, as a page opened before any press has)."""
    browser = Browser(server)
    return browser.post(link, {}, browser.csrf(SIGN))[0]


def test_200_different_signers_at_once_make_200_signatures(server):
    before, _ = counts(server)
    browser = Browser(server)
    token = browser.csrf(SIGN)
    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(lambda i: signup(browser, token, f"crowd{i}@example.org"), range(200)))
    assert statuses == [302] * 200
    after, _ = counts(server)
    assert after - before == 200


def test_the_same_address_20_times_at_once_makes_one_signature(server):
    before = counts(server)
    browser = Browser(server)
    token = browser.csrf(SIGN)
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda i: signup(browser, token, "twenty.times@example.org"), range(20)))
    assert statuses == [302] * 20  # every request gets the same answer: nothing reveals the duplicate
    assert counts(server) == (before[0] + 1, before[1] + 1)


def test_one_confirmation_link_opened_10_times_at_once_confirms_once(server):
    browser = Browser(server)
    assert signup(browser, browser.csrf(SIGN), "ten.clicks@example.org") == 302
    link = link_in(mails_to(server, "ten.clicks@example.org"), "confirm")
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda _: confirm(server, link), range(10)))
    assert statuses == [302] * 10  # each press of the button is answered by the page that says it is done
    state = server.python(
        "from letters.models import Signature\n"
        "s = Signature.objects.get(contact_email='ten.clicks@example.org')\n"
        "print(s.status, s.confirmed_at.isoformat(), s.signed_at == s.confirmed_at)\n"
    ).split()
    assert state[0] == "approved" and state[2] == "True"
    # Pressing it once more changes nothing.
    confirm(server, link)
    again = server.python(
        "from letters.models import Signature\n"
        "print(Signature.objects.get(contact_email='ten.clicks@example.org').confirmed_at.isoformat())\n"
    ).strip()
    assert again == state[1]


def test_approving_and_withdrawing_the_same_signature_at_once_is_consistent(server):
    address = "approve.withdraw@example.org"
    server.python(SET_APPROVAL % True)
    try:
        browser = Browser(server)
        assert signup(browser, browser.csrf(SIGN), address) == 302
        confirm(server, link_in(mails_to(server, address), "confirm"))
        withdraw = link_in(mails_to(server, address), "manage")
        withdraw_browser = Browser(server)
        token = withdraw_browser.csrf(withdraw)
        approve = (
            "from django.contrib.auth.models import User\n"
            "from letters.models import Signature\nfrom letters.lifecycle import signatures_approve\n"
            "staff, _ = User.objects.get_or_create(username='moderator', defaults={'is_staff': True})\n"
            f"signatures = Signature.objects.filter(contact_email='{address}')\n"
            "signatures_approve(signatures=signatures, user=staff)\n"
        )
        results = {}
        approving = threading.Thread(target=lambda: results.update(approve=server.python(approve)))
        approving.start()
        results["withdraw"] = withdraw_browser.post(
            withdraw, {"action": "withdraw", "understood": "on", "reason": "changed my mind"}, token
        )[0]
        approving.join()
    finally:
        server.python(SET_APPROVAL % False)
    status, withdrawn, approved_at = server.python(
        "from letters.models import Signature\n"
        f"s = Signature.objects.get(contact_email='{address}')\n"
        "print(s.status, s.withdrawn_at is not None, s.approved_at is not None)\n"
    ).split()
    assert results["withdraw"] == 302  # redirect after the POST
    assert withdrawn == "True"  # the withdrawal is never lost, whichever came first
    assert (status, approved_at) in {("approved", "True"), ("confirmed", "False")}


def test_a_worker_killed_mid_request_leaves_no_half_stored_signature(server):
    before_signatures, before_individuals = counts(server)
    browser = Browser(server)
    token = browser.csrf(SIGN)
    statuses = []

    def one(i: int) -> None:
        try:
            statuses.append(signup(browser, token, f"killed{i}@example.org"))
        except OSError:
            statuses.append("connection lost")

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(one, i) for i in range(80)]
        time.sleep(0.2)
        for pid in server.worker_pids()[:2]:
            os.kill(pid, signal.SIGKILL)
        for future in futures:
            future.result()
    after_signatures, after_individuals = counts(server)
    # Every person stored has their signature: the two rows commit together or not at all.
    assert after_individuals - before_individuals == after_signatures - before_signatures
    assert after_signatures - before_signatures >= statuses.count(302)
    assert set(statuses) <= {302, 502, "connection lost"}
    # gunicorn replaced the killed workers and the site still answers.
    assert Browser(server).get("/healthz")[0] == 200


def test_the_same_link_never_acts_on_another_signature(server):
    browser = Browser(server)
    token = browser.csrf(SIGN)
    signup(browser, token, "owner.a@example.org", name="Owner A")
    signup(browser, token, "owner.b@example.org", name="Owner B")
    withdraw_a = link_in(mails_to(server, "owner.a@example.org"), "manage")
    tampered = withdraw_a[:-3] + ("x" if withdraw_a[-3] != "x" else "y") + withdraw_a[-2:]
    assert Browser(server).get(tampered)[0] in {400, 404}
    page = Browser(server)
    status, _ = page.post(
        withdraw_a, {"action": "withdraw", "understood": "on", "reason": ""}, page.csrf(withdraw_a)
    )
    assert status == 302
    state = server.python(
        "from letters.models import Signature\n"
        "print(*(Signature.objects.get(contact_email=a).withdrawn_at is not None "
        "for a in ('owner.a@example.org', 'owner.b@example.org')))\n"
    ).split()
    assert state == ["True", "False"]


@pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="SQLite's write lock")
def test_signups_wait_for_another_process_holding_the_sqlite_write_lock(server):
    before, _ = counts(server)
    database = server.work / "db.sqlite3"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(database)!r}, isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\nprint('locked', flush=True)\ntime.sleep(3)\nc.execute('COMMIT')\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    browser = Browser(server)
    token = browser.csrf(SIGN)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda i: signup(browser, token, f"locked{i}@example.org"), range(10)))
    waited = time.monotonic() - started
    holder.wait(timeout=10)
    assert statuses == [302] * 10
    assert waited >= 2  # they waited for the lock rather than failing
    assert counts(server)[0] - before == 10
    with sqlite3.connect(database) as check:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="SQLite's writers' queue"
)
def test_a_signup_behind_a_writer_that_never_lets_go_answers_503_and_the_next_goes_through():
    # A task worker stopped (SIGSTOP) or stuck inside its write transaction held the writers'
    # queue (config/sqlite/base.py): every signup waited in flock() for ever, until gunicorn
    # killed its worker (the 500s tests/reliability/test_full_disk.py once met).
    with live_server(SQLITE_BUSY_TIMEOUT="2") as server:
        server.python(CREATE_LETTER)
        browser = Browser(server)
        token = browser.csrf(SIGN)
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import fcntl, os, sys, time\n"
                f"fd = os.open({str(server.work / 'db.sqlite3.writelock')!r}, os.O_RDWR | os.O_CREAT)\n"
                "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\nsys.stdin.read()\n",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "held"
            started = time.monotonic()
            typed = {"kind": "individual", "name": "Held Up", "email": "held@example.org"}
            status, page = browser.post(SIGN, typed | {"public_consent": "on"}, token)
            assert status == 503, server.log()[-3000:]
            assert time.monotonic() - started < 15  # SQLITE_BUSY_TIMEOUT, not gunicorn's 30 s
            assert "Held Up" in page  # what was typed, ready to send again
        finally:
            holder.communicate("", timeout=10)  # lets go
        assert signup(browser, token, "after@example.org") == 302
        assert counts(server) == (1, 1)


def test_a_mail_server_refusing_connections_loses_nothing_and_resend_works_later(server):
    # The same server and database, restarted with its mail pointed at a port nobody listens on.
    file_mail = {key: server.env[key] for key in ("EMAIL_BACKEND", "EMAIL_FILE_PATH")}
    server.stop()
    server.env.update(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(free_port()),
    )
    try:
        server.start()
        browser = Browser(server)
        assert signup(browser, browser.csrf(SIGN), "mail.down@example.org") == 302
        state = server.python(
            "from letters.models import Signature\n"
            "s = Signature.objects.get(contact_email='mail.down@example.org')\n"
            "print(s.status, s.confirmed_at)\n"
        ).split()
        assert state == ["pending", "None"]
        assert mails_to(server, "mail.down@example.org") == []
    finally:
        server.stop()
        server.env.update(file_mail)
        server.start()

    # The mail server is back: staff resend, the signer confirms.
    sent = server.python(
        "from letters.models import Signature\nfrom letters.signing.services import confirmation_resend\n"
        "print(confirmation_resend(signature=Signature.objects.get(contact_email='mail.down@example.org')))\n"
    ).strip()
    assert sent == "True"
    link = link_in(mails_to(server, "mail.down@example.org"), "confirm")
    assert confirm(server, link) == 302
    status = server.python(
        "from letters.models import Signature\n"
        "print(Signature.objects.get(contact_email='mail.down@example.org').status)\n"
    ).strip()
    assert status == "approved"


def test_an_import_killed_halfway_stores_nothing(server, tmp_path):
    before = counts(server)
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("type,name,title,acronym,country,signed_on\n")
        for i in range(12000):
            out.write(f"individual,Imported Person {i},Title {i},,France,2023-09-01\n")
    importer = subprocess.Popen(
        [sys.executable, "manage.py", "import_signatures", "live", str(path)],
        cwd=Path(__file__).resolve().parents[2],
        env=server.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Kill it once it is writing: the import takes several seconds for this many rows.
    time.sleep(4)
    assert importer.poll() is None, "the import finished before it could be stopped; make the file bigger"
    importer.kill()
    importer.wait()
    assert counts(server) == before

"""
The mail pipeline against a real gunicorn, a real task worker (`manage.py
task_worker`) and a small SMTP server of the test's own: the worker killed
with SIGKILL while the mail server hangs mid-message, then started again.
Every accepted signup is stored once and mailed once.
"""

import contextlib
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.live import Browser, LiveServer, SmtpSink, mailing_to, task_worker, wait_for

pytestmark = [pytest.mark.slow]

SIGN = "/letters/live/sign/"
CREATE_LETTER = (
    "from letters.models import Letter\n"
    "Letter.objects.create(slug='live', title='Live', body='Text.', status='open', requires_approval=False)\n"
)
COUNT = (
    "from letters.models import Signature\nfrom signatories.models import Individual\n"
    "print(Signature.objects.filter(letter__slug='live').count(), Individual.objects.count())\n"
)


@pytest.fixture
def sink():
    server = SmtpSink().serve()
    yield server
    server.close()


def test_a_worker_killed_while_the_mail_server_hangs_loses_no_email_and_sends_none_twice(sink):
    server = LiveServer(
        workers=2,
        env=mailing_to(sink.port, EMAIL_TIMEOUT="60", TASK_RUNNING_TIMEOUT_SECONDS="2"),
    )
    server.env["SITE_URL"] = server.url
    with server:
        server.python(CREATE_LETTER)
        sink.hang()
        first = task_worker(server)
        workers = [first]
        try:
            browser = Browser(server)
            token = browser.csrf(SIGN)
            addresses = [f"fault{n}@example.org" for n in range(12)]

            def signup(address: str) -> int:
                data = {"kind": "individual", "name": f"Signer {address}", "email": address}
                return browser.post(SIGN, data | {"public_consent": "on"}, token)[0]

            with ThreadPoolExecutor(max_workers=6) as pool:
                statuses = list(pool.map(signup, addresses))
            assert statuses == [302] * len(addresses)

            # The worker is inside a task, waiting on the mail server: killed there.
            assert sink.hung.wait(15), "the worker never reached the mail server"
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
            sink.release()

            workers.append(task_worker(server))
            wait_for(lambda: len(sink.recipients()) >= len(addresses), 25, "every e-mail sent")
            time.sleep(1)  # anything sent twice would arrive now
        finally:
            for worker in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        assert sorted(sink.recipients()) == sorted(addresses)  # each once
        signatures, individuals = map(int, server.python(COUNT).split())
        assert (signatures, individuals) == (len(addresses), len(addresses))


# The mail tasks by state: failed for good, ended (sent, or queued again for later), waiting with a run_after.
TASKS = (
    "from django_tasks_db.models import DBTaskResult, get_date_max\n"
    "rows = DBTaskResult.objects.all()\n"
    "later = rows.filter(status='READY').exclude(run_after=get_date_max())\n"
    "print(rows.filter(status='FAILED').count(), rows.filter(status='SUCCESSFUL').count(), later.count())\n"
)


def test_a_mail_server_stopped_during_signups_gets_every_email_once_when_it_is_back():
    sink = SmtpSink()
    port = sink.port
    sink.close()  # stopped: its port refuses connections
    server = LiveServer(
        workers=2,
        # Tried again after 0.5 s, 1 s, 2 s… rather than 30 s, 60 s…
        env=mailing_to(port, MAIL_RETRY_FIRST_SECONDS="0.5"),
    )
    server.env["SITE_URL"] = server.url
    with server:
        server.python(CREATE_LETTER)
        worker = task_worker(server)
        try:
            browser = Browser(server)
            token = browser.csrf(SIGN)
            addresses = [f"refused{n}@example.org" for n in range(10)]

            def signup(address: str) -> int:
                data = {"kind": "individual", "name": f"Signer {address}", "email": address}
                return browser.post(SIGN, data | {"public_consent": "on"}, token)[0]

            with ThreadPoolExecutor(max_workers=5) as pool:
                statuses = list(pool.map(signup, addresses))
            assert statuses == [302] * len(addresses)
            signatures, individuals = map(int, server.python(COUNT).split())
            assert (signatures, individuals) == (len(addresses), len(addresses))

            # Every message refused once at least: each first try ended by queueing the next one
            # with a run_after; none failed for good.
            def retried() -> bool:
                failed, ended, later = map(int, server.python(TASKS).split())
                assert failed == 0
                return ended >= len(addresses) and later > 0

            wait_for(retried, 15, "every e-mail queued again for later")
            assert sink.recipients() == []

            sink = SmtpSink(port).serve()  # started again
            wait_for(lambda: len(sink.recipients()) >= len(addresses), 15, "every e-mail sent")
            time.sleep(1)  # anything sent twice would arrive now
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
            sink.close()
        assert sorted(sink.recipients()) == sorted(addresses)  # each once
        failed, _, later = map(int, server.python(TASKS).split())
        assert (failed, later) == (0, 0)

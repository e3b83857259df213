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

from tests.live import Browser, LiveServer, SmtpSink, task_worker, wait_for

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
        env={
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(sink.port),
            "EMAIL_TIMEOUT": "60",
            "TASK_RUNNING_TIMEOUT_SECONDS": "2",
        },
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

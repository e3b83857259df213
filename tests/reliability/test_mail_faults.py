"""
The mail pipeline against a real gunicorn, a real task worker (`manage.py
task_worker`) and a small SMTP server of the test's own: the worker killed
with SIGKILL while the mail server hangs mid-message, then started again.
Every accepted signup is stored once and mailed once.
"""

import contextlib
import email
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.live import ROOT, Browser, LiveServer, free_port

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


class SmtpSink(socketserver.ThreadingTCPServer):
    """
    Just enough of an SMTP server for Django's SMTP backend, keeping what it
    accepts. While `hanging` is set it answers nothing, not even its greeting:
    a mail server that accepted the connection and hung.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", free_port()), SmtpSession)
        self.port = self.server_address[1]
        self.messages: list[email.message.Message] = []
        self.lock = threading.Lock()
        self.hanging = threading.Event()
        self.hung = threading.Event()  # a client is waiting on us
        self.released = threading.Event()

    def hang(self) -> None:
        self.released.clear()
        self.hanging.set()

    def release(self) -> None:
        self.hanging.clear()
        self.released.set()

    def recipients(self) -> list[str]:
        with self.lock:
            return [address for message in self.messages for address in message.get_all("To", [])]


class SmtpSession(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        sink: SmtpSink = self.server
        if sink.hanging.is_set():
            sink.hung.set()
            sink.released.wait(60)
            return  # the client is long gone (killed); so is this session
        self.say("220 sink ESMTP")
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self.say("250 sink")
            elif command == "DATA":
                self.say("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                with sink.lock:
                    sink.messages.append(email.message_from_bytes(data))
                self.say("250 queued")
            elif command == "QUIT":
                self.say("221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self.say("250 ok")

    def say(self, line: str) -> None:
        with contextlib.suppress(OSError):
            self.wfile.write(line.encode() + b"\r\n")


@pytest.fixture
def sink():
    server = SmtpSink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release()
    server.shutdown()
    server.server_close()


def task_worker(server: LiveServer) -> subprocess.Popen:
    command = ["manage.py", "task_worker", "--no-startup-delay", "--no-reload", "--interval", "0.2"]
    return subprocess.Popen(
        [sys.executable, *command],
        cwd=ROOT,
        env=server.env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {seconds} s")


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

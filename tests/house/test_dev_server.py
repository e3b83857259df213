"""
`make run` as a newcomer meets it: bin/dev serves the site and runs the task
worker on one console; signing the demo letter prints the confirmation e-mail
there, with the link whole and pointing at the port being served.
"""

import html
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.live import ROOT, Browser, LiveServer

pytestmark = pytest.mark.slow


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.2)
    raise AssertionError(f"Timed out waiting for {what}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - http://127.0.0.1 only
            return response.status == 200
    except OSError:
        return False


def test_it_serves_sends_and_confirms_from_the_console_link():
    server = LiveServer()
    env = {k: v for k, v in server.env.items() if k != "SITE_URL"} | {"DEBUG": "true"}
    log = server.work / "dev.log"
    process = None
    try:
        server.prepare()
        server.manage("load_demo")
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "bin/dev", f"127.0.0.1:{server.port}"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(lambda: answers(server.url + "/healthz"), 60, "the development server")

        browser = Browser(server)
        sign = "/letters/veltrana-civic-space/sign/"
        token = browser.csrf(sign)
        data = {"kind": "individual", "name": "Nadia Newcomer", "email": "nadia@example.org"}
        status, _ = browser.post(sign + "?as=individual", data | {"public_consent": "on"}, token)
        assert status == 302

        link_pattern = re.compile(rf"^(http://127\.0\.0\.1:{server.port}/confirm/\S+)$", re.MULTILINE)
        link = wait_for(
            lambda: link_pattern.search(log.read_text(errors="replace")), 60, "the e-mail on the console"
        ).group(1)
        assert not link.endswith("="), "the link was cut by quoted-printable encoding"

        path = link.removeprefix(server.url)
        status, page = browser.get(path)
        assert status == 200
        # Mail scanners open links, so the link may show a button that confirms (POST).
        if form := re.search(r'<form[^>]*method="post"[^>]*>', page):
            action = re.search(r'action="([^"]*)"', form.group(0))
            target = html.unescape(action.group(1)) if action and action.group(1) else path
            status, _ = browser.post(target, {}, browser.csrf(path))
            assert status in {200, 302}

        confirmed = server.python(
            "from letters.models import Signature;"
            "s = Signature.objects.get(individual__email='nadia@example.org');"
            "print(s.status, s.confirmed_at is not None)"
        )
        assert confirmed.split() == ["confirmed", "True"]
    finally:
        if process is not None:
            # Ctrl-C: bin/dev stops the server and the worker with it.
            os.kill(process.pid, signal.SIGINT)
            process.wait(timeout=30)
        server.close()
    assert process.returncode == 0
    assert processes_with(f"VAR_DIR={server.work}") == []


def test_when_the_web_server_cannot_start_the_worker_is_stopped_too():
    server = LiveServer()
    env = {k: v for k, v in server.env.items() if k != "SITE_URL"} | {"DEBUG": "true"}
    try:
        server.prepare()
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", server.port))
            taken.listen()
            result = subprocess.run(
                [sys.executable, "bin/dev", f"127.0.0.1:{server.port}"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=90,
                start_new_session=True,
            )
    finally:
        server.close()
    assert result.returncode != 0
    assert "The web server stopped" in result.stdout
    # Nothing of it is left running: the worker went with the server.
    assert processes_with(f"VAR_DIR={server.work}") == []


def test_a_task_worker_that_dies_is_started_again_while_the_site_keeps_serving():
    server = LiveServer()
    env = {k: v for k, v in server.env.items() if k != "SITE_URL"} | {"DEBUG": "true"}
    log = server.work / "dev.log"
    process = None
    try:
        server.prepare()
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "bin/dev", f"127.0.0.1:{server.port}"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(lambda: answers(server.url + "/healthz"), 60, "the development server")
        [first] = wait_for(lambda: task_workers(server.work), 30, "the task worker")

        # What a database error does to task_worker: it exits; here, at once.
        os.killpg(first, signal.SIGKILL)
        [second] = wait_for(
            lambda: [pid for pid in task_workers(server.work) if pid != first], 15, "a new task worker"
        )
        assert second != first
        assert "The task worker stopped (exit code -9); starting it again in 1 s." in log.read_text()
        assert answers(server.url + "/healthz")
    finally:
        if process is not None:
            os.kill(process.pid, signal.SIGINT)
            process.wait(timeout=30)
        server.close()
    assert process.returncode == 0
    assert processes_with(f"VAR_DIR={server.work}") == []


def task_workers(work: Path) -> list[int]:
    """
    The `task_worker` processes bin/dev started with this test's VAR_DIR: each
    leads its own process group (with DEBUG its autoreloader has a child).
    """
    found = []
    for pid in processes_with(f"VAR_DIR={work}"):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            leader = os.getpgid(pid) == pid
        except OSError:
            continue
        if b"task_worker" in command and leader:
            found.append(pid)
    return found


def processes_with(variable: str) -> list[int]:
    """Processes whose environment holds `variable` (ours: started with this test's VAR_DIR)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if variable.encode() + b"\0" in environ.read_bytes() + b"\0":
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found

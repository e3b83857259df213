"""
A real gunicorn serving Undersigned on 127.0.0.1 with its own fresh database:
used by the reliability tests (tests/reliability/) and by the load benchmark (bench/).

SQLite by default (a file in a temporary VAR_DIR); when DATABASE_URL points at a
PostgreSQL server (bin/with-postgres), a fresh database on that server. The
whole gunicorn process group is killed on stop(), and stop() runs on exit from
the `with` block even after an error.

Beside it: SmtpSink, a mail server of the test's own that can hang, stop and
start again, and task_worker, a real `manage.py task_worker` on the server's
database.
"""

import contextlib
import email
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(
        self, *, workers: int = 4, production: bool = False, env: dict[str, str] | None = None
    ) -> None:
        self.workers = workers
        self.port = free_port()
        self.work = Path(tempfile.mkdtemp(prefix="undersigned-live-"))
        self.process: subprocess.Popen | None = None
        self.database: str | None = None
        base = {
            k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST"}
        }
        base.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="127.0.0.1",
            VAR_DIR=str(self.work),
            SIGNUP_RATE_LIMIT="1000000/m",
            MANAGE_RATE_LIMIT="1000000/m",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        if production:
            base.update(
                DJANGO_ENV="production",
                SECURE_SSL_REDIRECT="false",
                SECURE_HSTS_SECONDS="0",
                SESSION_COOKIE_SECURE="false",
                CSRF_COOKIE_SECURE="false",
            )
        else:
            base.update(DJANGO_ENV="development", DEBUG="false")
        url = base.get("DATABASE_URL", "")
        if url.startswith("postgres"):
            self.database = f"live_{os.getpid()}_{self.port}"
            self._psql_admin("createdb")
            base["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + self.database
        self.env = base | (env or {})
        self.engine = "postgresql" if self.database else "sqlite"

    def _psql_admin(self, program: str) -> None:
        parsed = urllib.parse.urlparse(os.environ["DATABASE_URL"])
        host = urllib.parse.unquote(parsed.hostname or "") or None
        args = [program]
        if host:
            args += ["--host", host]
        if parsed.port:
            args += ["--port", str(parsed.port)]
        if parsed.username:
            args += ["--username", parsed.username]
        if program == "dropdb":
            args.append("--if-exists")
        env = os.environ | ({"PGPASSWORD": parsed.password} if parsed.password else {})
        subprocess.run([*args, self.database], check=True, env=env, capture_output=True)

    # -- set-up --------------------------------------------------------------
    def manage(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env | (env or {}),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def python(self, code: str, env: dict[str, str] | None = None) -> str:
        """Run Python in a Django shell against this server's database; returns what it printed."""
        return self.manage("shell", "-v", "0", "-c", code, env=env)

    def prepare(self) -> None:
        self.manage("migrate", "--noinput")
        self.manage("createcachetable")
        if self.env.get("DJANGO_ENV") == "production":
            self.manage("collectstatic", "--noinput", "-v", "0")

    # -- running -------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "gunicorn.conf.py",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--access-logfile",
                "/dev/null",
                # Import Django once in the master and fork: workers are ready at once.
                "--preload",
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=open(self.work / "gunicorn.log", "wb"),  # noqa: SIM115 - closed with the process
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz within 30 s:\n" + self.log())

    def worker_pids(self) -> list[int]:
        result = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in result.stdout.split()]

    def log(self) -> str:
        path = self.work / "gunicorn.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # INT is gunicorn's quick shutdown; TERM would wait for idle workers.
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def close(self) -> None:
        self.stop()
        if self.database:
            self._psql_admin("dropdb")
        shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self) -> "LiveServer":
        try:
            self.prepare()
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Browser:
    """A cookie-keeping HTTP client that carries Django's CSRF token like a browser does."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.server.url + path))  # noqa: S310 - http://127.0.0.1 only

    def csrf(self, path: str) -> str:
        status, html = self.get(path)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        if not match:
            raise RuntimeError(f"No CSRF token on {path} ({status})")
        return match.group(1)

    def post(self, path: str, data: dict[str, str], token: str) -> tuple[int, str]:
        body = urllib.parse.urlencode(data | {"csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.server.url + path,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": self.server.url + path},
        )
        return self._open(request)

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def mailing_to(port: int, **env: str) -> dict[str, str]:
    """A live server's environment: e-mails queued in the database and sent over SMTP to 127.0.0.1:`port`."""
    return {
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_TIMEOUT": "5",
    } | env


class SmtpSink(socketserver.ThreadingTCPServer):
    """
    Just enough of an SMTP server for Django's SMTP backend, keeping what it
    accepts. While `hanging` is set it answers nothing, not even its greeting:
    a mail server that accepted the connection and hung.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port or free_port()), SmtpSession)
        self.port = self.server_address[1]
        self.messages: list[email.message.Message] = []
        self.lock = threading.Lock()
        self.hanging = threading.Event()
        self.hung = threading.Event()  # a client is waiting on us
        self.released = threading.Event()
        self.serving: threading.Thread | None = None

    def hang(self) -> None:
        self.released.clear()
        self.hanging.set()

    def release(self) -> None:
        self.hanging.clear()
        self.released.set()

    def serve(self) -> "SmtpSink":
        """Answers on its port in a thread of its own, until close()."""
        self.serving = threading.Thread(target=self.serve_forever, daemon=True)
        self.serving.start()
        return self

    def close(self) -> None:
        """Stopped: its port refuses connections (a new SmtpSink(port) starts it again)."""
        self.release()
        if self.serving is not None:
            self.shutdown()
            self.serving = None
        self.server_close()

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


def task_worker(server: LiveServer) -> subprocess.Popen:
    """
    A task worker on `server`'s database, in its own process group (os.killpg kills it).
    Its mail retries wait as `server`'s environment says (MAIL_RETRY_FIRST_SECONDS).
    """
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

"""
Signup load test: gunicorn with the production settings on 127.0.0.1, driven by wrk
for a fixed time, beside two ceilings served by the same gunicorn in the same run:

- /healthz               the stack's request ceiling (one SELECT 1);
- /bench/one-insert      exactly one durable INSERT per request (bench/views.py);
- /bench/load/signup-floor  what any signup request costs before it learns who signs: the signup's
                         CSRF check, letter, rate limit and form, then that one INSERT (bench/views.py);
- /letters/<slug>/sign/  real signups: form validation, rate limit, individual + signature rows,
                         the confirmation e-mail queued as a task (never sent on the request path).

Then mail: signups paced at 70 % of the signup rate just measured while one task worker
(`manage.py task_worker`, writing messages to files) sends the confirmations; it prints
signups/s, e-mails/s and how late each e-mail was (queued to sent, p50 and p99) beside the
ceiling of MAIL_DELAY_CEILING_SECONDS.

    .venv/bin/python bench/signup_load.py                      # SQLite (WAL) in a temporary folder
    bin/with-postgres .venv/bin/python bench/signup_load.py    # PostgreSQL
    make bench                                                 # both, and bench/roster.py

It only talks to 127.0.0.1, stops by itself after --duration seconds per measurement,
and kills the whole gunicorn process group on the way out, even after an error.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.wrk import LUA_DONE, run_wrk
from tests.live import LiveServer

LUA_POST = """
local counter = 0
-- A global, not a local: thread:set() below sets the thread's global, which a local would hide
-- (every run then signed -1@, -2@… again, and a repeated address queues no confirmation).
prefix = ""
setup = function(thread)
  -- RUN_ID tells runs apart: wrk's math.random repeats itself from one run to the next.
  thread:set("prefix", (RUN_ID or "") .. "t" .. tostring(math.random(1, 1e9)))
end
request = function()
  counter = counter + 1
  local email = prefix .. "-" .. counter .. "@load.example.org"
  local body = BODY_BEFORE .. email .. BODY_AFTER
  return wrk.format("POST", nil, HEADERS, body)
end
"""


# A confirmation e-mail may be this late (queued to sent) at p99 while signups run at MAIL_LOAD of capacity.
MAIL_DELAY_CEILING_SECONDS = 10
MAIL_LOAD = 0.7

# Each connection waits this long before its next request: wrk's `delay` hook paces the load.
LUA_DELAY = """
delay = function()
  return DELAY_MS
end
"""

# How late each confirmation e-mail of the paced run was: seconds from queued to sent, and
# how many were still unsent. Run in the server's database once the queue is empty (or given up on).
MAIL_DELAYS = """
from django_tasks_db.models import DBTaskResult
rows = DBTaskResult.objects.filter(task_path="letters.signing.tasks.send_signature_email")
done = rows.filter(status="SUCCESSFUL").values_list("enqueued_at", "started_at", "finished_at")
delays = sorted((finished - enqueued).total_seconds() for enqueued, _started, finished in done)
span = (max(f for _e, _s, f in done) - min(s for _e, s, _f in done)).total_seconds() if done else 0
print(json.dumps({"delays": delays, "span": span, "unsent": rows.exclude(status="SUCCESSFUL").count()}))
"""

# A queue of DRAIN_SIZE confirmation e-mails, queued at once with no signups running, sent by one worker.
DRAIN_SIZE = 600
DRAIN_QUEUE = """
from django_tasks_db.models import DBTaskResult
from letters.models import Signature
from letters.signing import tasks
DBTaskResult.objects.all().delete()
pks = Signature.objects.filter(status="pending").order_by("-pk").values_list("pk", flat=True)[:DRAIN_SIZE]
for pk in pks:
    tasks.send_signature_email.enqueue(signature_id=pk, kind="confirm")
"""
DRAIN_RATE = """
from django.db.models import Max, Min
from django_tasks_db.models import DBTaskResult
span = DBTaskResult.objects.aggregate(first=Min("started_at"), last=Max("finished_at"))
done = DBTaskResult.objects.filter(status="SUCCESSFUL").count()
seconds = (span["last"] - span["first"]).total_seconds() if done else 0
print(json.dumps({"sent": done, "seconds": seconds}))
"""

SIGNATURES = """
from letters.models import Signature
print(Signature.objects.count())
"""

QUEUE_LEFT = """
from django_tasks_db.models import DBTaskResult
print(DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).count())
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for ASCII


def post_script(path: Path, body_format: str, headers: dict[str, str]) -> Path:
    """A wrk script POSTing `body_format` with a new e-mail address in place of its "%s" each time."""
    before, after = body_format.split("%s")
    lua_headers = "{" + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()) + "}"
    path.write_text(
        f"BODY_BEFORE = {lua_string(before)}\nBODY_AFTER = {lua_string(after)}\nHEADERS = {lua_headers}\n"
        + LUA_POST
        + LUA_DONE
    )
    return path


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(share * len(values)))]


def paced_script(script: Path, delay_ms: int) -> Path:
    paced = script.with_name("paced.lua")
    # Each run signs new addresses: a repeated one is "already signed", with no confirmation to send.
    run_id = secrets.token_hex(4)
    paced.write_text(f'RUN_ID = "{run_id}"\nDELAY_MS = {max(1, delay_ms)}\n' + script.read_text() + LUA_DELAY)
    return paced


def pacing(url: str, script: Path, rate: float, connections: int) -> int:
    """
    The pause (ms) after each answer that gives `rate` signups/s on `connections`
    connections. wrk waits that long after each answer, so a connection's cycle is
    the pause plus the answer's time: a 3-second trial run measures the answer's
    time at about that load, and the pause is set so that the cycles add up to `rate`.
    """
    cycle_ms = connections * 1000 / rate
    delay_ms = int(cycle_ms / 2)
    for _trial in range(4):  # until a trial lands within 10 % of the rate (a busy machine moves it)
        trial = run_wrk(url, paced_script(script, delay_ms), 3, connections)
        if abs(trial["rps"] - rate) <= rate / 10:
            break
        answer_ms = connections * 1000 / trial["rps"] - delay_ms if trial["rps"] else 0
        delay_ms = max(1, int(cycle_ms - answer_ms))
    return delay_ms


def mail_under_load(
    server: LiveServer, url: str, script: Path, rate: float, duration: int, workers: int = 1
) -> dict:
    """
    Signups at `rate` per second for `duration` seconds while one task worker
    sends their e-mails; then waits (up to a minute) for the queue to empty.
    """
    connections = 16
    clear = "from django_tasks_db.models import DBTaskResult\nDBTaskResult.objects.all().delete()\n"
    server.python(clear)
    started = [
        subprocess.Popen(
            [sys.executable, "manage.py", "task_worker", "--no-startup-delay", "--no-reload", "-v", "0"],
            cwd=Path(__file__).resolve().parent.parent,
            env=server.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=open(server.work / f"worker{n}.log", "wb"),  # noqa: SIM115 - closed with the process
        )
        for n in range(workers)
    ]

    def drained(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and int(server.python(QUEUE_LEFT).strip()):
            time.sleep(1)

    try:
        # The pause is measured with the worker sending, as in the run; the trials' e-mails
        # are sent, then forgotten.
        paced = paced_script(script, pacing(url, script, rate, connections))
        drained(60)
        server.python(clear)
        before = int(server.python(SIGNATURES).strip())
        data = run_wrk_counting(url, paced, duration, connections)
        drained(60)
        data["stored"] = int(server.python(SIGNATURES).strip()) - before
    finally:
        for worker in started:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    data.update(json.loads(server.python("import json\n" + MAIL_DELAYS).strip()))
    return data


def mail_drain(server: LiveServer, writes: tuple[str, Path] | None = None, seconds: int = 10) -> dict:
    """
    DRAIN_SIZE confirmation e-mails queued at once, sent by one worker (`--batch`: it exits once
    done); with `writes` (a URL and its wrk script), while wrk sends it writes at full speed for
    `seconds`: the worker's writes wait for SQLite's single writer behind them.
    """
    server.python(DRAIN_QUEUE.replace("DRAIN_SIZE", str(DRAIN_SIZE)))
    load = None
    if writes is not None:
        load = threading.Thread(target=run_wrk, args=(writes[0], writes[1], seconds, 8), daemon=True)
        load.start()
        time.sleep(1)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "task_worker",
            "--batch",
            "--no-startup-delay",
            "--no-reload",
            "-v",
            "0",
        ],
        cwd=Path(__file__).resolve().parent.parent,
        env=server.env,
        stdout=subprocess.DEVNULL,
        timeout=600,
        check=True,
    )
    if load is not None:
        load.join()
    return json.loads(server.python("import json\n" + DRAIN_RATE).strip())


def run_wrk_counting(url: str, script: Path, duration: int, connections: int) -> dict:
    """run_wrk, plus the signups the server accepted (every answer but an error status)."""
    data = run_wrk(url, script, duration, connections)
    data["accepted"] = data["requests"] - data["status_errors"]
    return data


# Where a signup's time goes: 300 signups through Django's test client in one
# process against the same database (cProfile), each part's cumulative time as
# a share of the signup view, beside the one-INSERT view's time per request.
PROFILE = """
import cProfile, pstats, time
from django.test import Client
client = Client(SERVER_NAME="127.0.0.1")
def sign(n):
    client.post("/letters/load/sign/", {"kind": "individual", "name": "Load Tester", "country": "FR",
                "public_consent": "on", "email": f"profile-{n}@load.example.org"})
def insert(n):
    client.post("/bench/one-insert", {"email": f"profile-{n}@load.example.org"})
for what in (sign, insert):
    what(0)
    started = time.perf_counter()
    for n in range(1, 301):
        what(n)
    print(f"per request in process | {what.__name__} | {(time.perf_counter() - started) / 300 * 1000:.2f} ms")
profile = cProfile.Profile()
profile.runcall(lambda: [sign(n) for n in range(301, 601)])
stats = pstats.Stats(profile).stats
def cumulative(where, name):
    rows = stats.items()
    return sum(row[3] for (file, _line, function), row in rows if function == name and file.endswith(where))
total = cumulative("letters/views/signup.py", "sign")
for where, part in [
    ("letters/signing/services.py", "signature_submit"),
    ("letters/signing/services.py", "_individual_for"),
    ("letters/signing/services.py", "_inserted"),
    ("letters/lifecycle/entry.py", "signature_create"),
    ("letters/signing/services.py", "signature_email_enqueue"),
    ("letters/views/public.py", "get_letter_for_visitor"),
    ("django/forms/forms.py", "is_valid"),
    ("letters/views/signup.py", "_rate_limited"),
]:
    print(f"share of the signup view | {part} | {cumulative(where, part) / total * 100:.0f} %")
"""


def csrf_for(url: str) -> tuple[str, str, str]:
    """The CSRF cookie and form token of the signup page (reused by every request, as a browser would)."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(url, timeout=10) as response:
        html = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    cookie = next(c.value for c in jar if c.name == "csrftoken")
    return cookie, token, html


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--mail-workers", type=int, default=1, help="task workers sending during the mail run (default 1)"
    )
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1)
    parser.add_argument(
        "--no-profile", dest="profile", action="store_false", help="skip where a signup's time goes"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (make bench does this).")

    server = LiveServer(
        workers=args.workers,
        production=True,
        env={
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            # Messages written to files: what the worker costs, without a mail server's.
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        },
    )
    engine = server.engine
    work = server.work
    server.env["EMAIL_FILE_PATH"] = str(work / "mail")
    try:
        server.prepare()
        server.python(
            "from django.db import connection\n"
            "from bench.views import CREATE_TABLE\n"
            "from letters.models import Letter\n"
            "with connection.cursor() as c: c.execute(CREATE_TABLE)\n"
            "Letter.objects.create(slug='load', title='Load test', body='Text.', status='open')\n",
        )
        server.start()
        sign_url = f"{server.url}/letters/load/sign/"
        cookie, token, _html = csrf_for(sign_url)
        form = {
            "csrfmiddlewaretoken": token,
            "kind": "individual",
            "name": "Load Tester",
            "title": "Benchmark signer",
            "country": "FR",
            "public_consent": "on",
        }
        body = "&".join(f"{k}={urllib.parse.quote(v)}" for k, v in form.items()) + "&email=%s"
        form_headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie}",
            "Referer": sign_url,
        }
        get_script = work / "get.lua"
        get_script.write_text(LUA_DONE)
        measurements = [
            ("healthz (request ceiling)", f"{server.url}/healthz", get_script),
            (
                "one INSERT (write ceiling)",
                f"{server.url}/bench/one-insert",
                post_script(
                    work / "insert.lua", "email=%s", {"Content-Type": "application/x-www-form-urlencoded"}
                ),
            ),
            (
                "signup floor (form, one INSERT)",
                f"{server.url}/bench/load/signup-floor",
                post_script(work / "floor.lua", body, form_headers),
            ),
            ("signup", sign_url, post_script(work / "signup.lua", body, form_headers)),
        ]
        results = {}
        for what, url, script in measurements:
            results[what] = run_wrk_counting(url, script, args.duration, args.connections)
        stored = int(
            server.python(
                "from letters.models import Signature\n"
                "print(Signature.objects.filter(letter__slug='load').count())"
            ).strip()
        )
        mail = mail_under_load(
            server,
            sign_url,
            work / "signup.lua",
            MAIL_LOAD * results["signup"]["rps"],
            args.duration,
            args.mail_workers,
        )
        drain = mail_drain(server)
        insert = (f"{server.url}/bench/one-insert", work / "insert.lua")
        drain_busy = mail_drain(server, insert, max(10, args.duration))
        profile = server.python(PROFILE) if args.profile else ""
    finally:
        server.close()

    print(
        f"engine | measurement | requests/s | p50 | p99 | errors | accepted | stored"
        f"   ({args.workers} workers, {args.connections} connections, {args.duration} s each)"
    )
    for what, data in results.items():
        errors = data["status_errors"] + data["socket_errors"] + data["timeouts"]
        stored_cell = str(stored) if what == "signup" else ""
        p50, p99 = data["p50_us"] / 1000, data["p99_us"] / 1000
        print(
            f"{engine} | {what} | {data['rps']:.0f} | {p50:.1f} ms | {p99:.1f} ms"
            f" | {errors} | {data['accepted']} | {stored_cell}"
        )
    signup, ceiling = results["signup"], results["one INSERT (write ceiling)"]
    floor = results["signup floor (form, one INSERT)"]
    print(
        f"{engine} | signup floor / one INSERT: {floor['rps'] / ceiling['rps']:.2f}x"
        " (the most a signup that checks its form on the request can reach)"
        f" | signup / signup floor: {signup['rps'] / floor['rps']:.2f}x"
        f" | signup / one INSERT: {signup['rps'] / ceiling['rps']:.2f}x"
    )
    checks = [
        ("signups/s >= half the one-INSERT ceiling", signup["rps"] >= ceiling["rps"] / 2),
        ("no errors", signup["status_errors"] + signup["socket_errors"] + signup["timeouts"] == 0),
        # wrk stops counting at the deadline while a few requests are still in flight; those are
        # stored too, so stored may exceed accepted by up to the number of connections, never fall short.
        (
            "every accepted signup stored",
            signup["accepted"] <= stored <= signup["accepted"] + args.connections,
        ),
    ]
    delays = mail["delays"]
    p50, p99 = percentile(delays, 0.5), percentile(delays, 0.99)
    sent_per_second = len(delays) / mail["span"] if mail["span"] else 0.0
    print(
        f"{engine} | mail at {MAIL_LOAD:.0%} of signup capacity, {args.mail_workers} task worker(s)"
        f" | signups/s {mail['rps']:.0f}"
        f" ({mail['rps'] / signup['rps']:.0%} of {signup['rps']:.0f})"
        f" | e-mails/s {sent_per_second:.0f} | signups stored {mail['stored']}, e-mails sent {len(delays)},"
        f" unsent {mail['unsent']}"
        f" | late p50 {p50:.1f} s | p99 {p99:.1f} s | ceiling {MAIL_DELAY_CEILING_SECONDS} s"
    )
    for what, data in [("", drain), (", one-INSERT requests at full speed meanwhile", drain_busy)]:
        drained = data["sent"] / data["seconds"] if data["seconds"] else 0.0
        print(
            f"{engine} | mail queue of {DRAIN_SIZE} drained by one worker{what} | e-mails/s {drained:.0f}"
            f" | sent {data['sent']} in {data['seconds']:.1f} s"
        )
    checks.append(
        (
            f"e-mails at most {MAIL_DELAY_CEILING_SECONDS} s late (p99)"
            f" at {MAIL_LOAD:.0%} of signup capacity (the run reached {mail['rps'] / signup['rps']:.0%};"
            f" below {MAIL_LOAD - 0.1:.0%} it does not count)",
            p99 <= MAIL_DELAY_CEILING_SECONDS
            and mail["unsent"] == 0
            and mail["rps"] >= (MAIL_LOAD - 0.1) * signup["rps"],
        )
    )
    for name, ok in checks:
        print(f"{engine} | target: {name} | {'met' if ok else 'MISSED'}")
    for line in profile.splitlines():
        print(f"{engine} | profile: {line}")
    if signup["rps"] < ceiling["rps"] / 2:
        for line in what_would_close_it(signup["rps"], floor["rps"], ceiling["rps"]):
            print(f"{engine} | what would close it: {line}")


def what_would_close_it(signup: float, floor: float, ceiling: float) -> list[str]:
    """
    The missed signup goal in the units of the run: what one request costs,
    counted in one-INSERT requests (each rate's inverse), beside what the goal allows.
    """
    lines = [
        "the goal allows a signup to cost 2.0 one-INSERT requests;"
        f" the signup floor costs {ceiling / floor:.1f}, a signup {ceiling / signup:.1f}"
    ]
    if floor < ceiling / 2:
        lines.append(
            "no signup that checks its form on the request can reach the goal on this machine: the floor,"
            " which only checks the form and writes once, is already over it"
        )
        lines.append(
            "closing it needs a request that stores the submission unchecked (checked later, by the worker);"
            " a mistake could then no longer be shown beside its field, as the form shows it now,"
            " and a queued design measured no faster once its worker runs (README, Performance)"
        )
    else:
        lines.append(
            f"a signup must shed {ceiling / signup - 2:.1f} one-INSERT requests' worth of work:"
            " the profile's look-ups and INSERTs above are where it goes"
        )
    return lines


if __name__ == "__main__":
    main()

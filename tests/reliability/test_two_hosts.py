"""
Two gunicorn "hosts" on one PostgreSQL and one Redis (bin/with-postgres bin/with-redis, as
`make test` runs it): signers split across them share one rate limit, nothing is lost, and a
name approved anywhere shows on both hosts' very next page.
"""

import os
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.live import Browser, LiveServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"),
        reason="needs PostgreSQL and Redis: bin/with-postgres bin/with-redis pytest …",
    ),
]

SIGN = "/letters/hosts/sign/"
LIMIT = 150


@pytest.fixture(scope="module")
def hosts():
    env = {"SIGNUP_RATE_LIMIT": f"{LIMIT}/h", "TASKS_BACKEND": "django.tasks.backends.dummy.DummyBackend"}
    first = LiveServer(workers=2, env=env)
    # The second host shares the first's database and secret; its own folder (page cache) and port.
    second = LiveServer(
        workers=2,
        env=env | {"DATABASE_URL": first.env["DATABASE_URL"], "SECRET_KEY": first.env["SECRET_KEY"]},
    )
    try:
        first.prepare()
        first.python(
            "from letters.models import Letter\n"
            "Letter.objects.create(slug='hosts', title='Hosts', body='Text.', status='open')\n"
        )
        first.start()
        second.start()
        yield first, second
    finally:
        second.close()
        first.close()


def signup(browser: Browser, token: str, n: int) -> int:
    data = {
        "kind": "individual",
        "name": f"Signer {n}",
        "email": f"host{n}@example.org",
        "public_consent": "on",
    }
    return browser.post(SIGN, data, token)[0]


def individuals_on(host: LiveServer) -> str:
    status, html = Browser(host).get("/letters/hosts/")
    assert status == 200
    return re.search(r"([0-9,]+) individuals?", html).group(1)


def test_200_signers_across_two_hosts_share_one_rate_limit_and_lose_nothing(hosts):
    first, second = hosts
    browsers = [Browser(first), Browser(second)]
    tokens = [browser.csrf(SIGN) for browser in browsers]
    assert individuals_on(first) == individuals_on(second) == "0"

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda n: signup(browsers[n % 2], tokens[n % 2], n), range(200)))

    # Every signer comes from 127.0.0.1: one allowance for both hosts, not one each.
    assert statuses.count(302) == LIMIT
    assert statuses.count(429) == 200 - LIMIT
    stored = first.python(
        "from letters.models import Signature\nprint(Signature.objects.filter(letter__slug='hosts').count())"
    )
    assert int(stored) == LIMIT

    # Approved through the first host's database: both hosts' next page shows them all.
    first.python(
        "from letters.models import Signature\nfrom django.utils import timezone\n"
        "Signature.objects.filter(letter__slug='hosts').update(status='approved', signed_at=timezone.now())\n"
    )
    assert individuals_on(first) == individuals_on(second) == str(LIMIT)

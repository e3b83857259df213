"""
Rate-limit counters (letters/signing/ratelimits.py): shared by every process, no
write on the site's database.
"""

from unittest import mock

import pytest
from django.conf import settings

from letters.signing import ratelimits

pytestmark = pytest.mark.django_db


def test_the_allowance_is_counted_per_group_and_client():
    results = [ratelimits.hit("sign:1", "203.0.113.9", "3/m")[0] for _ in range(4)]
    assert results == [False, False, False, True]
    assert ratelimits.hit("sign:2", "203.0.113.9", "3/m")[0] is False
    assert ratelimits.hit("sign:1", "203.0.113.10", "3/m")[0] is False


def test_it_says_when_the_window_ends():
    _, retry_after = ratelimits.hit("pdf", "203.0.113.9", "1/m")
    assert 1 <= retry_after <= 61


def test_counting_costs_no_query_on_the_sites_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        for _ in range(5):
            ratelimits.hit("sign:1", "203.0.113.9", "30/h")


def test_the_signup_form_is_limited_through_the_counters(client, letter, settings):
    settings.SIGNUP_RATE_LIMIT = "1/h"
    data = {"name": "A B", "country": "FR", "email": "a@example.org", "public_consent": "on"}
    assert client.post("/letters/civic-space/sign/", data).status_code == 302
    assert client.post("/letters/civic-space/sign/", data | {"email": "b@example.org"}).status_code == 429


def test_local_counters_are_shared_between_processes(tmp_path):
    path = tmp_path / "counters.sqlite3"
    one, other = ratelimits.LocalCounters(path), ratelimits.LocalCounters(path)
    assert [one.incr("k", 9e12), other.incr("k", 9e12), one.incr("k", 9e12)] == [1, 2, 3]


@pytest.mark.parametrize("rate", ["30/h", "5/10m", "1000/m", "2/s", "1/d"])
def test_rates_are_read_as_django_ratelimit_writes_them(rate):
    assert ratelimits.parse_rate(rate)[0] > 0


@pytest.mark.parametrize("rate", ["", "30", "x/h", "30/y", "30 per hour"])
def test_a_wrong_rate_is_refused(rate):
    with pytest.raises(ratelimits.RateError):
        ratelimits.parse_rate(rate)


@pytest.mark.skipif(not settings.REDIS_URL, reason="counts in Redis (bin/with-redis)")
def test_a_redis_count_is_one_round_trip_and_expires_with_its_window(monkeypatch):
    monkeypatch.setattr(ratelimits.time, "time", lambda: 1_800_000_030.0)  # both hits in one window
    from django.core.cache import caches

    redis = caches["default"]
    client = redis._cache.get_client(None, write=True)
    sent = []
    original = client.connection_pool.get_connection

    def counting(*args, **kwargs):
        sent.append(args)
        return original(*args, **kwargs)

    client.connection_pool.get_connection = counting
    try:
        ratelimits.hit("sign:1", "203.0.113.9", "3/m")
        ratelimits.hit("sign:1", "203.0.113.9", "3/m")
    finally:
        client.connection_pool.get_connection = original
    assert len(sent) == 2  # one connection use (one pipeline) per hit
    (key,) = client.keys("*rl:60:*")
    assert 1 <= client.ttl(key) <= 61
    assert int(client.get(key)) == 2


def counter_names() -> str:
    """Every name the counters hold, in Redis or in the counters file: what someone who reads them sees."""
    if settings.REDIS_URL:
        from django.core.cache import caches

        client = caches["default"]._cache.get_client(None, write=False)
        return " ".join(key.decode() for key in client.scan_iter("*"))
    import sqlite3

    with sqlite3.connect(settings.RATELIMIT_FILE) as db:
        return " ".join(name for (name,) in db.execute("SELECT name FROM counter"))


def test_a_counters_name_cannot_be_traced_back_to_the_address_without_the_key(client, letter):
    import hashlib

    data = {"name": "A B", "email": "a@example.org", "public_consent": "on"}
    client.post("/letters/civic-space/sign/", data, REMOTE_ADDR="198.51.100.7")

    names = counter_names()
    assert names
    for group in [f"sign:{letter.pk}", "sign"]:
        assert hashlib.sha256(f"{group}\x00198.51.100.7".encode()).hexdigest()[:32] not in names


def test_behind_a_proxy_that_appends_to_x_forwarded_for_the_client_cannot_pick_its_address(
    client, letter, settings
):
    settings.SIGNUP_RATE_LIMIT = "2/h"
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_FORWARDED_FOR"
    statuses = [
        client.post(
            "/letters/civic-space/sign/",
            {"name": "A B", "email": f"a{n}@example.org", "public_consent": "on"},
            HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 203.0.113.50",
        ).status_code
        for n in range(5)
    ]
    assert statuses == [302, 302, 429, 429, 429]


def test_a_redis_outage_turns_nobody_away_and_still_counts_in_this_process(monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def unreachable(name, expires, period):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(ratelimits, "_incr", unreachable)
    results = [ratelimits.hit("sign:1", "203.0.113.9", "3/m")[0] for _ in range(4)]
    assert results == [False, False, False, True]


@pytest.mark.parametrize("error", [TimeoutError("timed out"), OSError("network unreachable")])
def test_a_counter_server_that_times_out_turns_nobody_away(monkeypatch, error):
    monkeypatch.setattr(ratelimits, "_incr", mock.Mock(side_effect=error))
    assert ratelimits.hit("sign:1", "203.0.113.9", "3/m")[0] is False

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import DatabaseError

from staff import checks

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "a-long-random-production-secret-key-used-only-by-this-test-0123456789",
    "ALLOWED_HOSTS": "letters.example.org",
    "SITE_URL": "https://letters.example.org",
    "STAFF_REQUIRE_2FA": "true",
}


@pytest.mark.slow
def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", VAR_DIR=str(tmp_path), **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_check_deploy_warns_about_the_default_site_url_and_remote_addr_behind_a_proxy(tmp_path):
    # SITE_URL left at its default, behind a proxy without the client-address header.
    environment = {**PRODUCTION, "SECURE_PROXY_SSL_HEADER": "true"}
    del environment["SITE_URL"]
    result = manage("check", "--deploy", "--fail-level", "WARNING", VAR_DIR=str(tmp_path), **environment)
    assert result.returncode != 0
    assert "undersigned.W001" in result.stderr and "http://127.0.0.1:8000" in result.stderr
    assert "undersigned.W002" in result.stderr and "RATELIMIT_IP_META_KEY" in result.stderr

    configured = {**environment, "RATELIMIT_IP_META_KEY": "HTTP_X_REAL_IP", "SITE_URL": "https://x.example"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", VAR_DIR=str(tmp_path), **configured)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_site_url_check_names_a_loopback_address(settings):
    settings.SITE_URL = "http://localhost:8000"
    assert [warning.id for warning in checks.site_url_check(None)] == ["undersigned.W001"]
    settings.SITE_URL = "https://letters.example.org"
    assert checks.site_url_check(None) == []


def test_the_second_factor_check_wants_it_required(settings):
    settings.STAFF_REQUIRE_2FA = False
    assert [warning.id for warning in checks.staff_second_factor_check(None)] == ["undersigned.W003"]
    settings.STAFF_REQUIRE_2FA = True
    assert checks.staff_second_factor_check(None) == []


def test_the_proxy_check_wants_the_client_address_header(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.RATELIMIT_IP_META_KEY = None
    assert [warning.id for warning in checks.proxy_client_address_check(None)] == ["undersigned.W002"]
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    assert checks.proxy_client_address_check(None) == []
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.RATELIMIT_IP_META_KEY = None
    assert checks.proxy_client_address_check(None) == []


@pytest.mark.slow
def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = manage("check", VAR_DIR=str(tmp_path), DJANGO_ENV="production", ALLOWED_HOSTS="x.example")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_healthz_answers_ok_when_the_database_answers(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_does_not(client, db):
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=DatabaseError("gone")):
        response = client.get("/healthz")
    assert response.status_code == 503


def test_pages_carry_security_headers(client, letter):
    response = client.get("/letters/civic-space/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def caches_with(**env: str) -> dict:
    """settings.CACHES as a process started with `env` reads it."""
    import json

    result = manage(
        "shell",
        "-c",
        "import json; from django.conf import settings; print(json.dumps(settings.CACHES))",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_an_unresponsive_redis_is_given_up_on_within_half_a_second():
    caches = caches_with(REDIS_URL="redis://redis.invalid:6379/0")
    for alias in ("default", "pdfs"):
        options = caches[alias]["OPTIONS"]
        assert options["socket_connect_timeout"] == options["socket_timeout"] == 0.5


@pytest.mark.slow
def test_the_redis_timeout_is_a_setting():
    caches = caches_with(REDIS_URL="redis://redis.invalid:6379/0", REDIS_TIMEOUT_SECONDS="2.5")
    assert caches["default"]["OPTIONS"]["socket_timeout"] == 2.5

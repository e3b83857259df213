"""The development console shows e-mails readably, with links pointing at the port being served."""

import io
import subprocess
import sys

from django.core.mail import EmailMultiAlternatives

from config.mail import ConsoleEmailBackend
from tests.live import ROOT

LONG_LINK = "http://127.0.0.1:8123/confirm/" + "NjA:1xVYx6:mVkJPqrHfsA83mUlokBU-Kz9gejhyUnZhet0Rf4I0g8" + "/"


def test_it_prints_the_body_decoded_with_links_whole():
    stream = io.StringIO()
    message = EmailMultiAlternatives(
        subject="Please confirm your signature: Protéger l’espace civique",
        body=f"Bonjour Zoë,\n\nTo confirm it, open this link within 7 days:\n{LONG_LINK}\n",
        from_email="Undersigned <letters@localhost>",
        to=["zoe@example.org"],
    )
    message.attach_alternative(f'<a href="{LONG_LINK}">Confirm</a>', "text/html")
    ConsoleEmailBackend(stream=stream).send_messages([message])

    printed = stream.getvalue()
    assert f"\n{LONG_LINK}\n" in printed
    assert "Subject: Please confirm your signature: Protéger l’espace civique" in printed
    assert "To: zoe@example.org" in printed
    assert "Bonjour Zoë," in printed
    assert "=\n" not in printed and "=3D" not in printed


def site_url(**env: str) -> str:
    code = "from django.conf import settings; print(settings.SITE_URL)"
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_site_url_follows_host_and_port_in_development(tmp_path):
    assert site_url(VAR_DIR=str(tmp_path), PORT="8123") == "http://127.0.0.1:8123"
    assert site_url(VAR_DIR=str(tmp_path), HOST="localhost", PORT="9000") == "http://localhost:9000"
    assert site_url(VAR_DIR=str(tmp_path), HOST="0.0.0.0", PORT="9000") == "http://127.0.0.1:9000"  # noqa: S104


def test_site_url_from_the_environment_wins(tmp_path):
    assert site_url(VAR_DIR=str(tmp_path), PORT="8123", SITE_URL="https://letters.example.org/") == (
        "https://letters.example.org"
    )

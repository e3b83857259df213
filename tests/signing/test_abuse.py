import hashlib
import hmac
import logging
import re
import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.db import DatabaseError, OperationalError

from letters.models import Signature
from letters.signing.services import confirmation_resend, ip_hash
from signatories.models import Individual
from tests.factories import make_letter

pytestmark = pytest.mark.django_db

URL = "/letters/civic-space/sign/"


def data(n: int = 1, **fields):
    return {"name": f"Signer {n}", "email": f"signer{n}@example.org", "public_consent": "on"} | fields


def test_a_bot_that_fills_the_honeypot_sees_success_and_nothing_is_stored(post, client, letter):
    response = post(URL, data(comment="Great letter! http://spam.example"))
    assert response.status_code == 302
    assert response["Location"] == "/letters/civic-space/sign/thanks/?as=individual"
    assert client.get(response["Location"]).status_code == 200
    assert not Signature.objects.exists()
    assert not Individual.objects.exists()
    assert not mail.outbox


def test_the_honeypot_is_hidden_from_people(client, letter):
    html = client.get(URL).content.decode()
    assert re.search(r'<div class="signup-hp" aria-hidden="true">.*tabindex="-1"', html)


def test_the_rate_limit_answers_429_with_a_readable_page(post, settings, letter):
    settings.SIGNUP_RATE_LIMIT = "3/h"
    for n in range(3):
        assert post(URL, data(n), REMOTE_ADDR="198.51.100.7").status_code == 302
    response = post(URL, data(4), REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many attempts" in html
    assert "Protect civic space" in html
    assert Signature.objects.count() == 3
    assert len(mail.outbox) == 3


def test_the_rate_limit_is_per_address_and_per_letter(post, settings, letter):
    settings.SIGNUP_RATE_LIMIT = "1/h"
    make_letter(slug="other")
    assert post(URL, data(1), REMOTE_ADDR="198.51.100.7").status_code == 302
    assert post(URL, data(2), REMOTE_ADDR="198.51.100.7").status_code == 429
    assert post(URL, data(3), REMOTE_ADDR="198.51.100.8").status_code == 302
    assert post("/letters/other/sign/", data(4), REMOTE_ADDR="198.51.100.7").status_code == 302


def test_the_rate_limit_counts_bots_and_mistakes_but_not_reading_the_form(post, client, settings, letter):
    settings.SIGNUP_RATE_LIMIT = "2/h"
    for _ in range(5):
        assert client.get(URL).status_code == 200
    assert post(URL, data(1, comment="spam")).status_code == 302
    assert post(URL, data(2, email="broken")).status_code == 400
    assert post(URL, data(3)).status_code == 429


def test_the_rate_limit_reads_the_proxy_header_when_told_to(post, settings, letter):
    settings.SIGNUP_RATE_LIMIT = "1/h"
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    assert post(URL, data(1), HTTP_X_REAL_IP="198.51.100.1").status_code == 302
    assert post(URL, data(2), HTTP_X_REAL_IP="198.51.100.2").status_code == 302
    assert post(URL, data(3), HTTP_X_REAL_IP="198.51.100.2").status_code == 429


def test_the_ip_address_is_stored_only_as_a_salted_hash(post, settings, letter):
    settings.IP_HASH_SALT = "pepper"
    post(URL, data(1), REMOTE_ADDR="198.51.100.7")
    post(URL, data(2), REMOTE_ADDR="198.51.100.7")
    first, second = Signature.objects.order_by("pk")
    expected = hmac.new(b"pepper", b"198.51.100.7", hashlib.sha256).hexdigest()
    assert first.ip_hash == second.ip_hash == expected
    assert first.ip_hash != hashlib.sha256(b"198.51.100.7").hexdigest()  # not guessable without the salt
    assert ip_hash("198.51.100.8") != expected


def test_a_mail_server_failure_keeps_the_signature_pending_and_staff_can_resend(
    post, letter, caplog, django_capture_on_commit_callbacks
):
    refusing = mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages",
        side_effect=smtplib.SMTPConnectError(421, "try later"),
    )
    with refusing, caplog.at_level(logging.ERROR, logger="letters.signing.tasks"):
        response = post(URL, data(1))
    assert response.status_code == 302
    assert response["Location"] == "/letters/civic-space/sign/thanks/?as=individual"
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    assert not mail.outbox
    assert f"Could not send the confirm e-mail for signature {signature.pk}" in caplog.text

    with django_capture_on_commit_callbacks(execute=True):
        assert confirmation_resend(signature=signature) is True
    [message] = mail.outbox
    assert message.to == ["signer1@example.org"]
    assert "/confirm/" in message.body


def test_resending_to_a_confirmed_signature_sends_nothing(letter, django_capture_on_commit_callbacks):
    from tests.factories import make_individual, signature_row

    signature = signature_row(letter, make_individual("Jane", email="jane@example.org"))
    with django_capture_on_commit_callbacks(execute=True):
        assert confirmation_resend(signature=signature) is False
    assert not mail.outbox


def test_a_locked_database_gives_a_try_again_page_that_keeps_the_form(post, letter):
    with mock.patch(
        "letters.signing.services.signature_submit", side_effect=OperationalError("database is locked")
    ):
        response = post(URL, data(1))
    assert response.status_code == 503
    html = response.content.decode()
    assert "send the form again" in html
    assert 'value="Signer 1"' in html


@pytest.mark.parametrize("error", [OperationalError("connection refused"), DatabaseError("server closed")])
def test_a_database_outage_while_signing_says_nothing_was_stored_and_keeps_the_form(post, letter, error):
    # The letter itself cannot be read: no 500 page claiming "nothing you sent was lost".
    with mock.patch("letters.views.signup.get_letter_for_visitor", side_effect=error):
        response = post(URL + "?as=individual", data(1, title="Director"))
    assert response.status_code == 503
    assert response["Retry-After"]
    html = response.content.decode()
    assert "Nothing was stored" in html
    assert "send the form again" in html
    assert 'value="Signer 1"' in html
    assert 'value="signer1@example.org"' in html
    assert 'value="Director"' in html
    assert 'action="/letters/civic-space/sign/?as=individual"' in html
    assert html.count('name="csrfmiddlewaretoken"') == 1  # a fresh token, not the old one echoed too


def test_the_rate_limit_holds_on_the_database_cache_that_production_uses(post, settings, letter):
    from django.core.cache import caches
    from django.core.management import call_command

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "test_rate_cache"}
    }
    settings.SIGNUP_RATE_LIMIT = "2/h"
    call_command("createcachetable", verbosity=0)
    assert type(caches["default"]).__name__ == "DatabaseCache"
    assert post(URL, data(1)).status_code == 302
    assert post(URL, data(2, email="broken")).status_code == 400
    assert post(URL, data(3)).status_code == 429
    assert Signature.objects.count() == 1


def test_the_form_cannot_flood_a_signers_inbox(post, settings, letter):
    settings.SIGNUP_REPEAT_MAIL_INTERVAL = 300
    for _ in range(5):
        assert post(URL, data(1)).status_code == 302
    for _ in range(3):
        post("/letters/civic-space/sign/new-link/", {"email": "signer1@example.org"})
    # The first confirmation, then a single new link.
    assert len(mail.outbox) == 2
    assert Signature.objects.count() == 1


def test_ipv6_addresses_count_per_network(post, settings, letter):
    # One household or phone holds a whole /64: hopping within it is not a new visitor.
    settings.SIGNUP_RATE_LIMIT = "1/h"
    assert post(URL, data(1), REMOTE_ADDR="2001:db8:1:2::1").status_code == 302
    assert post(URL, data(2), REMOTE_ADDR="2001:db8:1:2:ffff::9").status_code == 429
    assert post(URL, data(3), REMOTE_ADDR="2001:db8:1:3::1").status_code == 302


def test_ipv4_visitors_of_a_dual_stack_listener_count_as_their_ipv4_address(post, settings, letter):
    # A listener on [::] sees IPv4 visitors as ::ffff:a.b.c.d; as a /64 they were all one visitor.
    settings.SIGNUP_RATE_LIMIT = "1/h"
    settings.IP_HASH_SALT = "pepper"
    assert post(URL, data(1), REMOTE_ADDR="::ffff:198.51.100.7").status_code == 302
    assert post(URL, data(2), REMOTE_ADDR="::ffff:203.0.113.9").status_code == 302
    assert post(URL, data(3), REMOTE_ADDR="198.51.100.7").status_code == 429

    first, second = Signature.objects.order_by("pk")
    assert first.ip_hash == hmac.new(b"pepper", b"198.51.100.7", hashlib.sha256).hexdigest()
    assert second.ip_hash == ip_hash("203.0.113.9") != first.ip_hash

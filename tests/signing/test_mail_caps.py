"""One mailbox gets a few messages an hour from us, whoever types its address into our forms."""

import re
from unittest import mock

import pytest
from django.core import mail
from django.core.cache import cache

from letters.models import Signature
from letters.signing import mailcaps, tokens
from tests.factories import make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db

ORG_URL = "/letters/{slug}/sign/?as=organization"
VICTIM = "victim@example.org"


def organization_submission(n: int, email: str = VICTIM) -> dict:
    return {
        "organization_name": f"Invented Organization {n}",
        "country": "AR",
        "name": f"Attacker-written text {n}",
        "email": email,
        "public_consent": "on",
    }


def test_ten_organizations_naming_one_address_from_ten_networks_send_it_three_messages(post, letter):
    other = make_letter(slug="other")
    for n in range(10):
        slug = letter.slug if n % 2 else other.slug
        response = post(ORG_URL.format(slug=slug), organization_submission(n), REMOTE_ADDR=f"198.51.100.{n}")
        assert response.status_code == 302

    assert Signature.objects.count() == 10  # stored for staff to see; only the mail is capped
    assert len(mail.outbox) == 3
    assert {address for message in mail.outbox for address in message.to} == {VICTIM}


def test_the_cap_counts_the_mailbox_not_the_spelling(post, letter, settings):
    settings.SIGNUP_MAIL_PER_ADDRESS = 2
    for n, email in enumerate(["jane.doe@gmail.com", "JaneDoe+x@gmail.com", "janedoe@googlemail.com"]):
        post(ORG_URL.format(slug=letter.slug), organization_submission(n, email), REMOTE_ADDR=f"10.0.0.{n}")
    assert len(mail.outbox) == 2

    post(ORG_URL.format(slug=letter.slug), organization_submission(9, "someone@example.org"))
    assert len(mail.outbox) == 3  # another mailbox has its own allowance


def test_the_count_is_kept_under_a_keyed_hash_never_the_address(post, letter):
    post(ORG_URL.format(slug=letter.slug), organization_submission(1))

    key = f"mail-cap:{mailcaps.mailbox_digest(VICTIM)}"
    assert cache.get(key) == 1  # counted under the digest…
    assert "victim" not in key.lower() and "example.org" not in key  # …which does not spell the address


def test_the_new_link_page_sends_one_message_listing_every_pending_link(post, letter, settings):
    settings.SIGNUP_MAIL_PER_ADDRESS = 100
    pending = [
        signature_row(letter, make_organization(f"Org {n}"), status="pending", contact_email=VICTIM)
        for n in range(4)
    ]
    confirmed = signature_row(letter, make_organization("Done"), status="confirmed", contact_email=VICTIM)

    response = post(f"/letters/{letter.slug}/sign/new-link/", {"email": VICTIM})

    assert response.status_code == 200
    [message] = mail.outbox
    assert message.to == [VICTIM]
    links = re.findall(r"/confirm/([^/\s]+)/", message.body)
    assert sorted(tokens.read_confirm_token(token) for token in links) == [s.pk for s in pending]
    assert "Org 3" in message.body and "Done" not in message.body
    assert confirmed.pk not in [tokens.read_confirm_token(token) for token in links]
    html = message.alternatives[0][0]
    assert html.count("/confirm/") == 4


def test_the_new_link_page_respects_the_cap_too(post, letter, settings):
    settings.SIGNUP_MAIL_PER_ADDRESS = 1
    settings.SIGNUP_REPEAT_MAIL_INTERVAL = 0
    signature_row(letter, make_organization("Org"), status="pending", contact_email=VICTIM)
    for _ in range(3):
        post(f"/letters/{letter.slug}/sign/new-link/", {"email": VICTIM})
    assert len(mail.outbox) == 1


def test_the_cap_holds_on_the_database_cache_that_production_uses(post, settings, letter):
    from django.core.cache import caches
    from django.core.management import call_command

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "test_mail_cache"}
    }
    call_command("createcachetable", verbosity=0)
    assert type(caches["default"]).__name__ == "DatabaseCache"

    for n in range(5):
        post(ORG_URL.format(slug=letter.slug), organization_submission(n), REMOTE_ADDR=f"198.51.100.{n}")

    assert len(mail.outbox) == 3


@pytest.fixture
def redis_down():
    """The shared cache's server is gone: every call raises what redis-py raises then."""
    from django.core.cache import caches
    from redis.exceptions import ConnectionError as RedisConnectionError

    error = RedisConnectionError("Error 111 connecting to redis:6379. Connection refused.")
    shared = caches["default"]
    with (
        mock.patch.object(shared, "get", side_effect=error),
        mock.patch.object(shared, "add", side_effect=error),
        mock.patch.object(shared, "set", side_effect=error),
        mock.patch.object(shared, "incr", side_effect=error),
    ):
        yield


def test_a_cache_outage_loses_no_confirmation_e_mail_and_the_cap_holds_in_each_process(
    post, letter, redis_down
):
    response = post(ORG_URL.format(slug=letter.slug), organization_submission(1, "someone@example.org"))
    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [["someone@example.org"]]

    for n in range(5):
        post(ORG_URL.format(slug=letter.slug), organization_submission(n), REMOTE_ADDR=f"198.51.100.{n}")
    assert len(mail.outbox) == 1 + 3  # counted in the worker's own memory meanwhile


def test_a_cache_outage_still_sends_a_new_link_once(post, letter, settings, redis_down):
    settings.SIGNUP_REPEAT_MAIL_INTERVAL = 300
    signature_row(letter, make_organization("Org"), status="pending", contact_email=VICTIM)
    for _ in range(3):
        assert post(f"/letters/{letter.slug}/sign/new-link/", {"email": VICTIM}).status_code == 200
    assert len(mail.outbox) == 1


def test_tags_quotes_and_case_do_not_make_a_new_mailbox_for_any_domain(post, letter, settings):
    settings.SIGNUP_MAIL_PER_ADDRESS = 3
    variants = [
        "victim+1@example.org",
        '"victim"@example.org',
        "VICTIM@example.org",
        "Victim+x@EXAMPLE.ORG",
        '"victim+2"@example.org',
        "victim+3@example.org",
        "victim@example.org",
        "vIcTiM+4@example.org",
    ]
    for n, email in enumerate(variants):
        response = post(
            ORG_URL.format(slug=letter.slug), organization_submission(n, email), REMOTE_ADDR=f"10.0.1.{n}"
        )
        assert response.status_code == 302

    assert Signature.objects.count() == 8  # each stored for staff to see; only the mail is capped
    assert len(mail.outbox) == 3
    assert len({mailcaps.mailbox_digest(email) for email in variants}) == 1


def test_folding_the_mail_cap_leaves_identity_as_it_was(post, letter):
    from signatories.models import Individual

    post(
        f"/letters/{letter.slug}/sign/",
        {"name": "Jane Doe", "country": "AR", "email": "jane@example.org", "public_consent": "on"},
    )
    post(
        f"/letters/{letter.slug}/sign/",
        {"name": "Jane Other", "country": "AR", "email": "jane+1@example.org", "public_consent": "on"},
        REMOTE_ADDR="10.0.2.1",
    )
    # Two people for identity (a server may deliver jane+1@ elsewhere), one mailbox for the cap.
    assert sorted(Individual.objects.values_list("canonical_email", flat=True)) == [
        "jane+1@example.org",
        "jane@example.org",
    ]

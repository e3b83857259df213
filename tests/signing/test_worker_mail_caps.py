"""
On SQLite with the database cache (a single host without Redis), the worker
counts the messages of each mailbox (the hourly cap) in the rate limits' own
SQLite file, not in the database: sending takes the site's write lock once
per batch of messages, not twice per message, so it keeps up with signups.
"""

import time

import pytest
from django.core import mail
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from letters.signing import mailcaps, tasks
from tests.factories import make_individual, make_letter, signature_row


@pytest.fixture
def production_cache(settings):
    """The database queue and the database cache, as a site on SQLite without Redis runs them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "test_worker_cache"}
    }
    call_command("createcachetable", verbosity=0)
    assert type(caches["default"]).__name__ == "DatabaseCache"
    mailcaps.clear()
    yield
    mailcaps.clear()


def queue_confirmations(addresses: list[str]) -> None:
    letter = make_letter(slug="civic-space")
    for n, address in enumerate(addresses):
        signature = signature_row(
            letter,
            make_individual(f"Signer {n}", email=f"s{n}@example.org"),
            status="pending",
            contact_email=address,
        )
        tasks.send_signature_email.enqueue(signature_id=signature.pk, kind="confirm")


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]


@pytest.mark.django_db(transaction=True)
def test_sending_a_batch_writes_to_the_database_only_to_claim_and_record_it(production_cache):
    if connection.vendor != "sqlite":
        pytest.skip("the counters file is for SQLite; PostgreSQL has no single write lock")
    queue_confirmations([f"signer{n}@example.org" for n in range(10)])

    with CaptureQueriesContext(connection) as queries:
        call_command("task_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    assert len(mail.outbox) == 10
    # Stalled tasks looked for, the batch claimed, its results recorded; before, 20 more (an
    # INSERT and an UPDATE of the cache table for each message, each its own write transaction).
    assert len(writes(queries)) == 3
    assert not [sql for sql in queries.captured_queries if "test_worker_cache" in sql["sql"]]


@pytest.mark.django_db(transaction=True)
def test_the_hourly_cap_still_holds_counted_in_the_file(production_cache, settings):
    if connection.vendor != "sqlite":
        pytest.skip("the counters file is for SQLite")
    settings.SIGNUP_MAIL_PER_ADDRESS = 3
    queue_confirmations(["victim@example.org"] * 5 + ["VICTIM+tag@example.org"])

    call_command("task_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    assert len(mail.outbox) == 3  # one mailbox, however it is spelled


@pytest.mark.django_db(transaction=True)
def test_a_count_lasts_an_hour_from_its_first_message_then_starts_again(production_cache):
    if connection.vendor != "sqlite":
        pytest.skip("the counters file is for SQLite")
    counters = mailcaps._counters_file()
    now = time.time()
    assert counters.incr("mail-cap:x", now + 3600) == 1
    assert counters.incr("mail-cap:x", now + 7200) == 2
    assert counters.get("mail-cap:x") == 2
    counters._connection().execute("UPDATE mail_cap SET expires = ? WHERE name = 'mail-cap:x'", (now - 1,))
    assert counters.get("mail-cap:x") == 0  # expired
    assert counters.incr("mail-cap:x", now + 3600) == 1  # a new hour

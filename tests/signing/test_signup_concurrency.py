"""Two submissions for one signatory at the same moment: the database's unique constraints decide."""

import threading
import time

import pytest
from django.db import OperationalError, connection, transaction

from letters.lifecycle import signature_create
from letters.models import Signature
from letters.signing.services import signature_submit
from signatories.models import Individual, Organization
from tests.factories import make_individual, make_letter, signature_row

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def waiting_for_the_lock(submit) -> None:
    """
    The test database is SQLite in memory with a shared cache, which refuses a
    second writer at once ("table is locked") instead of making it wait as
    busy_timeout does for the real, file-based database. Wait here instead.
    (On PostgreSQL the two transactions really overlap.)
    """
    for _ in range(200):
        try:
            return submit()
        except OperationalError as error:
            if "locked" not in str(error):
                raise
            time.sleep(0.01)
    raise AssertionError("the database stayed locked")


def at_once(count: int, submit) -> list[BaseException]:
    """Run `submit` in `count` threads released together; returns the errors they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            waiting_for_the_lock(submit)
        except BaseException as error:  # reported to the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_the_same_person_twice_at_once_makes_one_signature():
    letter = make_letter()

    def submit():
        signature_submit(
            letter=letter, kind="individual", name="Jane Doe", email="jane@example.org", public_consent=True
        )

    assert at_once(2, submit) == []
    assert Individual.objects.count() == 1
    assert Signature.objects.filter(letter=letter).count() == 1


def test_the_same_organization_twice_at_once_makes_one_signature():
    letter = make_letter()

    def submit():
        signature_submit(
            letter=letter,
            kind="organization",
            organization_name="Open Society",
            name="Ana",
            email="ana@example.org",
            public_consent=True,
        )

    assert at_once(2, submit) == []
    assert Organization.objects.count() == 1
    assert Signature.objects.filter(letter=letter).count() == 1


def test_losing_the_race_to_insert_stores_nothing():
    # What the loser of a race sees on PostgreSQL: no signature when it looked,
    # then the unique constraint refusing its insert.
    letter = make_letter()
    individual = make_individual("Jane Doe", email="jane@example.org")
    signature_row(letter, individual, status="pending")
    loser = Signature(letter=letter, individual=individual, status="pending")
    with transaction.atomic():
        assert signature_create(signature=loser) is None
        # The savepoint kept the outer transaction usable.
        assert Signature.objects.filter(letter=letter).count() == 1

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from letters.models import Signature
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db


def test_a_signature_needs_exactly_one_signatory(letter):
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(letter=letter)
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(
            letter=letter, individual=make_individual(), organization=make_organization()
        )


def test_one_signature_per_individual_per_letter(letter):
    person = make_individual()
    signature_row(letter, person)
    with pytest.raises(IntegrityError), transaction.atomic():
        signature_row(letter, person)
    signature_row(make_letter(), person)  # another letter is fine


def test_one_signature_per_organization_per_letter(letter):
    org = make_organization()
    signature_row(letter, org)
    with pytest.raises(IntegrityError), transaction.atomic():
        signature_row(letter, org)


def test_an_approved_signature_needs_signed_at(letter):
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(
            letter=letter, individual=make_individual(), status="approved", signed_at=None
        )


def test_full_clean_explains_a_duplicate_signature(letter):
    person = make_individual()
    signature_row(letter, person)
    duplicate = Signature(letter=letter, individual=person, status="pending")
    with pytest.raises(ValidationError, match="already signed this letter"):
        duplicate.full_clean()


def test_a_letter_refuses_an_unknown_time_zone():
    letter = make_letter()
    letter.timezone = "Europe/Geneva"  # not a zone: Switzerland is Europe/Zurich
    with pytest.raises(ValidationError, match="not a time zone"):
        letter.full_clean()


def test_a_letter_must_close_after_it_opens():
    letter = make_letter()
    letter.opens_at = dt.datetime(2023, 9, 2, tzinfo=dt.UTC)
    letter.closes_at = dt.datetime(2023, 9, 1, tzinfo=dt.UTC)
    with pytest.raises(ValidationError, match="close after it opens"):
        letter.full_clean()


def test_accepting_signatures_depends_on_status_and_dates():
    now = dt.datetime(2023, 9, 10, tzinfo=dt.UTC)
    letter = make_letter(opens_at=now - dt.timedelta(days=1), closes_at=now + dt.timedelta(days=1))
    assert letter.is_accepting_signatures(now)
    assert not letter.is_accepting_signatures(now + dt.timedelta(days=2))
    assert not letter.is_accepting_signatures(now - dt.timedelta(days=2))
    letter.status = letter.Status.CLOSED
    assert not letter.is_accepting_signatures(now)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings")
def test_sqlite_is_set_up_for_concurrent_writers(settings):
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000


def test_a_new_letter_takes_the_sites_time_zone_and_a_site_zone_needs_no_migration(settings):
    # The default was the TIME_ZONE read when the code was loaded: a site with TIME_ZONE=Asia/Seoul
    # failed `makemigrations --check` (a migration to its own zone) in CI.
    import io

    from django.core.management import call_command

    from letters.models import Letter

    settings.TIME_ZONE = "Asia/Seoul"
    assert Letter().timezone == "Asia/Seoul"
    call_command("makemigrations", "--check", "--dry-run", stdout=io.StringIO())

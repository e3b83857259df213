"""The letter's roster_version: up whenever the public list may have changed, whoever changed it."""

import datetime as dt

import pytest

from letters.models import Letter, Signature
from tests.factories import make_individual, signature_row

pytestmark = pytest.mark.django_db


def version(letter) -> int:
    return Letter.objects.get(pk=letter.pk).roster_version


def test_a_bulk_update_keeps_updated_at_and_the_version_current(letter):
    signed_at = dt.datetime(2023, 9, 1, tzinfo=dt.UTC)
    signature = signature_row(
        letter, make_individual(), status=Signature.Status.CONFIRMED, signed_at=signed_at
    )
    before_version, before_updated = version(letter), signature.updated_at

    Signature.objects.filter(pk=signature.pk).update(status=Signature.Status.APPROVED)

    signature.refresh_from_db()
    assert signature.updated_at > before_updated
    assert version(letter) == before_version + 1


def test_a_change_nobody_can_see_leaves_the_version_alone(letter):
    before = version(letter)

    pending = signature_row(letter, make_individual(), status=Signature.Status.PENDING)
    Signature.objects.filter(pk=pending.pk).update(status=Signature.Status.REJECTED)

    assert version(letter) == before


def test_withdrawing_a_listed_signature_bumps_the_version(letter):
    signature = signature_row(letter, make_individual())
    before = version(letter)

    signature.withdrawn_at = dt.datetime.now(dt.UTC)
    signature.save()

    assert version(letter) == before + 1


def test_editing_a_listed_signatory_bumps_every_letter_that_lists_them(letter):
    person = make_individual("Lee Yanghee")
    signature_row(letter, person)
    before = version(letter)

    person.title = "Former Special Rapporteur"
    person.save()

    assert version(letter) == before + 1


def test_a_copy_read_before_a_withdrawal_and_saved_back_bumps_the_version(letter):
    # The version moves only when a listed field changes; what is stored decides, not the old copy.
    signature = signature_row(letter, make_individual())
    stale = Signature.objects.get(pk=signature.pk)
    Signature.objects.filter(pk=signature.pk).update(withdrawn_at=dt.datetime.now(dt.UTC))
    before = version(letter)

    stale.notes = "Saved from a page opened earlier."
    stale.save()

    assert version(letter) == before + 1


def test_resorting_a_listed_signatory_bumps_the_version(letter):
    person = make_individual("Lee Yanghee")
    signature_row(letter, person)
    before = version(letter)

    person.sort_name = "Lee Yanghee"
    person.save()

    assert version(letter) == before + 1

"""
What each signer signed (issue #26): the text's versions, the one function that
changes a signed text, re-consent, and the mark "signed an earlier version" as
of the day shown.
"""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from letters import lifecycle
from letters.models import Letter, LetterVersion, Signature
from letters.rosters import Roster
from tests.factories import make_individual, make_letter, signature_row

pytestmark = pytest.mark.django_db

NEW_BODY = "We urge the government to withdraw the draft law on associations at once."


@pytest.fixture
def signed(letter):
    signature_row(
        letter, make_individual("Anna Early", email="anna@example.org"), contact_email="anna@example.org"
    )
    return letter


def marks(letter, as_of=None) -> dict[str, int | None]:
    return {
        entry.name: entry.earlier_version
        for entry in Roster(Letter.objects.get(pk=letter.pk), as_of).entries()
    }


def test_it_changes_an_unsigned_text_without_a_version(letter):
    assert lifecycle.letter_text_change(letter=letter, user=None, material=True, body=NEW_BODY) is None
    letter.refresh_from_db()
    assert letter.body == NEW_BODY and letter.text_version == 0
    assert not LetterVersion.objects.exists()


def test_the_first_change_after_signing_keeps_version_1_and_makes_version_2(signed):
    old_body = signed.body
    version = lifecycle.letter_text_change(
        letter=signed, user=None, material=False, note="A typo.", body=NEW_BODY
    )
    assert version.number == 2 and not version.material and version.asked == []
    first = LetterVersion.objects.get(letter=signed, number=1)
    assert first.body == old_body and first.title == signed.title
    signed.refresh_from_db()
    assert (signed.body, signed.text_version, signed.material_version) == (NEW_BODY, 2, 1)
    # The signer signed the text version 1 keeps.
    assert Signature.objects.get().text_version == 1


def test_an_editorial_change_marks_nobody(signed):
    lifecycle.letter_text_change(letter=signed, user=None, material=False, note="A typo.", body=NEW_BODY)
    assert marks(signed) == {"Anna Early": None}


def test_a_material_change_marks_and_asks_every_signer_of_an_earlier_version(signed):
    waiting = signature_row(signed, make_individual("Ben Waiting"), status=Signature.Status.CONFIRMED)
    gone = signature_row(signed, make_individual("Carla Gone"), withdrawn_at=timezone.now())
    version = lifecycle.letter_text_change(
        letter=signed, user=None, material=True, note="We now ask for withdrawal.", body=NEW_BODY
    )
    anna = Signature.objects.get(individual__name="Anna Early")
    assert version.asked == [anna.pk, waiting.pk]
    assert gone.pk not in version.asked
    assert marks(signed) == {"Anna Early": 1}


def test_a_signed_text_does_not_change_without_a_note(signed):
    with pytest.raises(ValidationError):
        lifecycle.letter_text_change(letter=signed, user=None, material=True, note=" ", body=NEW_BODY)
    signed.refresh_from_db()
    assert signed.body != NEW_BODY and not LetterVersion.objects.exists()


def test_only_text_fields_change_through_it(signed):
    with pytest.raises(ValueError):
        lifecycle.letter_text_change(letter=signed, user=None, material=True, note="x", slug="other")


def test_the_same_words_make_no_version(signed):
    assert (
        lifecycle.letter_text_change(letter=signed, user=None, material=True, note="x", body=signed.body)
        is None
    )
    assert not LetterVersion.objects.exists()


def test_a_signer_after_the_change_is_under_the_new_version_and_unmarked(signed):
    lifecycle.letter_text_change(letter=signed, user=None, material=True, note="Sharper.", body=NEW_BODY)
    signed.refresh_from_db()
    later = lifecycle.signature_enter(
        letter=signed, signatory=make_individual("Dan Later"), signed_at=timezone.now(), user=None
    )
    assert later.text_version == 2
    assert marks(signed) == {"Anna Early": 1, "Dan Later": None}


def test_reconsent_takes_the_mark_off_from_today_on(signed):
    lifecycle.letter_text_change(letter=signed, user=None, material=True, note="Sharper.", body=NEW_BODY)
    anna = lifecycle.signature_reconsent(signature=Signature.objects.get())
    assert anna.text_version == 2
    assert marks(signed) == {"Anna Early": None}


def test_a_past_day_shows_the_mark_as_it_stood_that_day(letter):
    anna = signature_row(
        letter, make_individual("Anna Early"), signed_at=timezone.now() - dt.timedelta(days=5)
    )
    anna.text_version = 1
    anna.save()
    today = letter.today()
    lifecycle.letter_text_change(letter=letter, user=None, material=True, note="Sharper.", body=NEW_BODY)
    # Changed and agreed to on different days: the days between show the mark.
    LetterVersion.objects.filter(letter=letter, number=2).update(
        created_at=timezone.now() - dt.timedelta(days=3)
    )
    Letter.objects.filter(pk=letter.pk).update(text_version_at=timezone.now() - dt.timedelta(days=3))
    lifecycle.signature_reconsent(signature=anna)
    anna.refresh_from_db()
    anna.earlier_text_versions = [[1, (timezone.now() - dt.timedelta(days=1)).isoformat()]]
    anna.save()
    assert marks(letter, today - dt.timedelta(days=4)) == {"Anna Early": None}  # before the change
    assert marks(letter, today - dt.timedelta(days=2)) == {"Anna Early": 1}  # changed, not yet agreed
    assert marks(letter, today) == {"Anna Early": None}  # agreed


def test_reconsent_asks_nothing_of_a_withdrawn_or_current_signer(signed):
    lifecycle.letter_text_change(letter=signed, user=None, material=True, note="Sharper.", body=NEW_BODY)
    anna = Signature.objects.get()
    lifecycle.signature_withdraw(signature=anna)
    assert lifecycle.signature_reconsent(signature=anna).text_version == 1
    assert not lifecycle.needs_reconsent(Signature.objects.get())


def test_a_new_signature_on_a_versioned_letter_records_its_version(letter):
    signature_row(letter, make_individual("Anna Early"))
    lifecycle.letter_text_change(letter=letter, user=None, material=False, note="Typo.", body=NEW_BODY)
    letter.refresh_from_db()
    signature = Signature(letter=letter, individual=make_individual("Eve"), status=Signature.Status.PENDING)
    assert lifecycle.signature_create(signature=signature).text_version == 2


def test_a_letter_read_before_the_first_version_does_not_save_it_away(signed):
    stale = Letter.objects.get(pk=signed.pk)
    lifecycle.letter_text_change(letter=signed, user=None, material=True, note="Sharper.", body=NEW_BODY)
    stale.closing = "Yours,"
    stale.save()
    stale.refresh_from_db()
    assert (stale.text_version, stale.material_version) == (2, 2)


def test_the_word_diff_reads_removed_and_added_words():
    old = LetterVersion(title="T", body="We ask for reform of the law.")
    new = LetterVersion(title="T", body="We ask for withdrawal of the <law>.")
    assert (
        lifecycle.diff_text(old, new) == "T\n\nWe ask for [-reform-]{+withdrawal+} of the [-law.-]{+<law>.+}"
    )
    assert "<del>reform</del><ins>withdrawal</ins>" in lifecycle.diff_html(old, new)
    assert "&lt;law&gt;" in lifecycle.diff_html(old, new)


def test_version_1_is_dated_from_the_first_signature(letter):
    first = timezone.now() - dt.timedelta(days=9)
    signature_row(letter, make_individual("Anna Early"), submitted_at=first)
    lifecycle.letter_text_change(letter=letter, user=None, material=False, note="Typo.", body=NEW_BODY)
    assert LetterVersion.objects.get(letter=letter, number=1).created_at == first


def test_other_letters_keep_their_versions(signed):
    other = make_letter(slug="other")
    signature_row(other, make_individual("Olga Other"))
    lifecycle.letter_text_change(letter=signed, user=None, material=True, note="Sharper.", body=NEW_BODY)
    assert marks(other) == {"Olga Other": None}
    assert Letter.objects.get(pk=other.pk).text_version == 0


def test_the_migration_takes_version_1_for_letters_signed_before_versions(letter):
    migration = importlib.import_module("letters.migrations.0026_letter_versions_of_signed_letters")
    first = timezone.now() - dt.timedelta(days=4)
    anna = signature_row(letter, make_individual("Anna Early"), submitted_at=first)
    unsigned = make_letter(slug="unsigned")
    migration.first_versions(apps, None)
    version = LetterVersion.objects.get(letter=letter)
    assert (version.number, version.body, version.created_at) == (1, letter.body, first)
    letter.refresh_from_db()
    assert (letter.text_version, letter.material_version) == (1, 1)
    anna.refresh_from_db()
    assert anna.text_version == 1
    assert not LetterVersion.objects.filter(letter=unsigned).exists()
    migration.first_versions(apps, None)  # run again: nothing more
    assert LetterVersion.objects.filter(letter=letter).count() == 1


def test_an_import_rejected_then_approved_after_a_change_still_signed_the_earlier_version(letter):
    # Hypothesis found it (test_lifecycle_properties): approving again moves approved_at past
    # the change, but what the person signed is what stood when staff entered their row.
    entered = lifecycle.signature_enter(
        letter=letter,
        signatory=make_individual("Paper Signer"),
        signed_at=timezone.now() - dt.timedelta(days=1),
        source=Signature.Source.IMPORT,
        user=None,
    )
    row = Signature.objects.filter(pk=entered.pk)
    lifecycle.signatures_reject(signatures=row, user=None, reason="Unsure")
    lifecycle.letter_text_change(letter=letter, user=None, material=True, note="Stronger.", body=NEW_BODY)
    lifecycle.signatures_approve(signatures=row, user=None)
    assert marks(letter) == {"Paper Signer": 1}

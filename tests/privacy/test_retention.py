"""Private data is deleted RETENTION_DAYS after a letter closes; what was printed stays."""

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from letters.lifecycle.retention import letter_purge_date, personal_data_purge
from letters.models import Correction, Letter, Signature
from letters.outputs.deliveries import delivery_record
from signatories.models import Individual
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db


def ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def signed_by_jane(letter: Letter, **fields) -> Signature:
    jane = Individual.objects.filter(name="Jane Doe").first() or make_individual(
        "Jane Doe", email="jane@example.org", notes="met at the conference"
    )
    defaults = {
        "contact_email": "jane@example.org",
        "ip_hash": "a" * 64,
        "signer_name": "Jane Doe",
        "notes": "typed her name twice",
        "contact_consent": True,
    }
    return signature_row(letter, jane, **(defaults | fields))


def test_a_letter_closed_longer_ago_than_the_retention_loses_its_signers_private_data(settings):
    settings.RETENTION_DAYS = 30
    old = make_letter(slug="old", closes_at=ago(31))
    signature = signed_by_jane(old)
    org = make_organization("Org", contact_name="Ana Contact", contact_email="ana@org.example")
    org_signature = signature_row(old, org, signer_name="Ana Contact", contact_email="ana@org.example")

    outcome = personal_data_purge()

    assert (outcome.signatures, outcome.individuals, outcome.organizations) == (2, 1, 1)
    signature.refresh_from_db()
    org_signature.refresh_from_db()
    assert (signature.contact_email, signature.ip_hash, signature.signer_name, signature.notes) == ("",) * 4
    assert signature.contact_consent is False
    assert (org_signature.signer_name, org_signature.contact_email) == ("", "")
    jane = signature.individual
    jane.refresh_from_db()
    assert (jane.email, jane.canonical_email, jane.notes) == ("", "", "")
    assert jane.name == "Jane Doe"  # the printed name stays
    org.refresh_from_db()
    assert (org.contact_name, org.contact_email, org.name) == ("", "", "Org")
    # Status and dates, which make the rosters, are untouched.
    assert signature.status == Signature.Status.APPROVED and signature.signed_at is not None


def test_a_letter_still_within_retention_is_untouched(settings):
    settings.RETENTION_DAYS = 30
    signature = signed_by_jane(make_letter(slug="recent", closes_at=ago(29)))
    still_open = signature_row(
        make_letter(slug="open"), make_organization(), contact_email="jane@example.org"
    )

    assert personal_data_purge().signatures == 0

    signature.refresh_from_db()
    still_open.refresh_from_db()
    assert signature.contact_email == still_open.contact_email == "jane@example.org"
    assert signature.individual.email == "jane@example.org"


def test_a_person_who_signed_a_letter_still_within_retention_keeps_their_address(settings):
    settings.RETENTION_DAYS = 30
    old = signed_by_jane(make_letter(slug="old", closes_at=ago(400)))
    signed_by_jane(make_letter(slug="current"))

    personal_data_purge()

    old.refresh_from_db()
    assert old.contact_email == ""  # the old signature's copy goes
    assert Individual.objects.get(name="Jane Doe").email == "jane@example.org"  # the person's stays


def test_a_letter_closed_by_status_without_a_closing_date_counts_from_when_it_was_closed(settings):
    settings.RETENTION_DAYS = 30
    letter = make_letter(slug="closed", status=Letter.Status.CLOSED)
    assert letter.closed_at is not None
    signature = signed_by_jane(letter)
    Letter.objects.filter(pk=letter.pk).update(closed_at=ago(31))
    letter.refresh_from_db()

    assert letter_purge_date(letter) == letter.closed_at + dt.timedelta(days=30)
    assert personal_data_purge().signatures == 1
    signature.refresh_from_db()
    assert signature.contact_email == ""


def test_saving_a_closed_letter_again_does_not_put_its_purge_off(settings):
    # A translation or a typo fixed on a closed letter restarted its retention.
    settings.RETENTION_DAYS = 30
    letter = make_letter(slug="closed")
    letter.status = Letter.Status.CLOSED
    letter.save()
    purge = letter_purge_date(letter)
    Letter.objects.filter(pk=letter.pk).update(closed_at=ago(31), updated_at=ago(31))
    signature = signed_by_jane(letter)
    letter.refresh_from_db()
    letter.title = "Protect civic space (corrected)"
    letter.save()

    assert purge is not None
    assert letter_purge_date(letter) == letter.closed_at + dt.timedelta(days=30) < timezone.now()
    assert personal_data_purge().signatures == 1
    signature.refresh_from_db()
    assert signature.contact_email == ""
    letter.status = Letter.Status.OPEN  # reopened: no purge date until it closes again
    letter.save()
    assert letter.closed_at is None and letter_purge_date(letter) is None


def test_a_letter_closed_before_the_day_was_recorded_counts_from_its_last_save():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("letters.migrations.0013_letter_closed_at")
    letter = make_letter(slug="closed", status=Letter.Status.CLOSED)
    Letter.objects.filter(pk=letter.pk).update(closed_at=None, updated_at=ago(40))
    migration.from_last_save(apps, None)
    letter.refresh_from_db()
    assert letter.closed_at == letter.updated_at


def test_drafts_and_open_letters_without_a_closing_date_never_expire(settings):
    settings.RETENTION_DAYS = 0
    assert letter_purge_date(make_letter(slug="draft", status=Letter.Status.DRAFT)) is None
    assert letter_purge_date(make_letter(slug="open")) is None


def test_the_command_dry_run_says_what_it_would_purge_and_changes_nothing(settings):
    settings.RETENTION_DAYS = 30
    signature = signed_by_jane(make_letter(slug="old", closes_at=ago(31)))
    out = io.StringIO()

    call_command("purge_personal_data", "--dry-run", stdout=out)

    assert out.getvalue().startswith(
        "Would purge 1 signatures, 1 individuals and 0 organizations, and the names of 0"
    )
    assert "old" in out.getvalue()
    signature.refresh_from_db()
    assert signature.contact_email == "jane@example.org"

    call_command("purge_personal_data", stdout=out)
    signature.refresh_from_db()
    assert signature.contact_email == ""

    again = io.StringIO()
    call_command("purge_personal_data", stdout=again)
    assert again.getvalue().startswith("Purged 0 signatures, 0 individuals and 0 organizations")


def test_the_letter_admin_page_says_when_its_data_will_be_purged(staff_client, settings):
    settings.RETENTION_DAYS = 365
    closing = dt.datetime(2031, 3, 1, 12, tzinfo=dt.UTC)
    letter = make_letter(slug="closing", closes_at=closing)

    html = staff_client.get(f"/admin/letters/letter/{letter.pk}/change/").content.decode()
    assert "will be deleted on 29 February 2032" in html

    Letter.objects.filter(pk=letter.pk).update(closes_at=None)
    html = staff_client.get(f"/admin/letters/letter/{letter.pk}/change/").content.decode()
    assert "deleted 365 days after it closes" in html


def _history() -> str:
    from django.contrib.admin.models import LogEntry

    return repr(list(LogEntry.objects.values_list("object_repr", "change_message")))


def test_the_purge_also_deletes_what_the_admin_history_quotes_of_a_signer(settings, staff):
    from letters import lifecycle

    settings.RETENTION_DAYS = 30
    signature = signed_by_jane(make_letter(slug="old", closes_at=ago(31)))
    reason = "She fears for her brother in detention"
    lifecycle.signature_withdraw(signature=signature, user=staff, reason=reason)
    lifecycle.signatures_withdraw(
        signatures=Signature.objects.filter(
            pk=signature_row(signature.letter, make_individual("Ann Roe")).pk
        ),
        user=staff,
        reason="Her employer threatened her",
    )
    assert reason in _history() and "Her employer threatened her" in _history()

    personal_data_purge()

    history = _history()
    assert reason not in history and "Her employer threatened her" not in history
    assert "Marked withdrawn" in history  # what staff did, and when, stays
    assert "Jane Doe" in history  # the printed name is not private


def test_an_erasure_also_deletes_the_withdrawal_reason_the_admin_history_quotes(staff):
    from letters import lifecycle

    signature = signed_by_jane(make_letter(slug="open"))
    reason = "Arrested relatives; asked us to remove her"
    lifecycle.signature_withdraw(signature=signature, user=staff, reason=reason)

    lifecycle.signature_erase(signature=signature)

    history = _history()
    assert reason not in history and "Jane Doe" not in history
    assert "Marked withdrawn" in history  # what staff did, and when, stays


def test_an_erasure_leaves_the_history_of_other_signers_as_it_was(staff):
    from django.contrib.admin.models import LogEntry

    from letters import lifecycle

    letter = make_letter(slug="open")
    other = signature_row(letter, make_individual("Ann Roe"), status=Signature.Status.CONFIRMED)
    lifecycle.signatures_approve(signatures=Signature.objects.filter(pk=other.pk), user=staff)
    signature = signed_by_jane(letter, notes="Lawyer")
    # What she wrote is free text that other entries can hold too.
    lifecycle.signature_withdraw(signature=signature, user=staff, reason="Approved")

    lifecycle.signature_erase(signature=signature)

    assert LogEntry.objects.get(object_id=str(other.pk)).change_message == "Approved."
    assert LogEntry.objects.get(object_id=str(signature.pk)).change_message == "Marked withdrawn: [erased]"


def test_history_written_before_the_purge_cleaned_it_is_cleaned_by_a_migration(staff):
    import importlib

    from django.apps import apps
    from django.contrib.admin.models import DELETION, LogEntry

    from letters import lifecycle

    migration = importlib.import_module("letters.migrations.0012_admin_history_without_private_data")
    letter = make_letter(slug="old", closes_at=ago(400))
    purged = signed_by_jane(letter)
    kept = signature_row(letter, make_individual("Ann Roe"))
    lifecycle.signature_withdraw(signature=purged, user=staff, reason="Her employer threatened her")
    lifecycle.signature_withdraw(signature=kept, user=staff, reason="Signed the wrong letter")
    # As an earlier purge left it: the signature emptied, its history not.
    Signature.objects.filter(pk=purged.pk).update(withdrawal_reason="")
    gone = make_individual("Ann  Roe", email="ann.home@secret.example")
    LogEntry.objects.log_actions(
        staff.pk,
        [gone],
        DELETION,
        "Merged into #2 “Ann Roe”. Held #3 name: Ann  Roe; email: ann.home@secret.example",
    )

    migration.scrub(apps, None)

    history = _history()
    assert "Her employer threatened her" not in history and "secret.example" not in history
    assert "Marked withdrawn: [erased]" in history
    assert "Signed the wrong letter" in history  # still on its signature: the purge's to delete
    assert "Held #3 name: Ann  Roe" in history


def test_the_purge_deletes_the_names_no_list_ever_printed(settings, staff):
    # Retention kept the name, title and country of everyone who filled in the form and was never
    # listed (never confirmed, awaiting approval, rejected), for ever: the people a hostile reader
    # of the database would look for first, whom no page ever named.
    from letters import lifecycle

    settings.RETENTION_DAYS = 30
    old = make_letter(slug="old", closes_at=ago(31))
    pending = signature_row(
        old, make_individual("Nadia Pending", title="Journalist", country="BY"), status="pending"
    )
    rejected = signature_row(
        old, make_individual("Rafael Rejected", title="Lawyer", country="VE"), status="pending"
    )
    lifecycle.signatures_reject(
        signatures=Signature.objects.filter(pk=rejected.pk), user=staff, reason="Fake?"
    )
    Correction.objects.create(signature=pending, name="Nadia P. Pending", title="Editor")
    printed = signed_by_jane(old)
    Correction.objects.create(signature=printed, name="Jane Doe", title="Spy", status="superseded")
    waiting_elsewhere = make_individual("Wanda Waiting", title="Doctor")
    signature_row(old, waiting_elsewhere, status="pending")
    signature_row(make_letter(slug="current"), waiting_elsewhere, status="pending")
    delivered = signature_row(old, make_individual("Dora Delivered"))
    delivery_record(letter=old, as_of=dt.date(2023, 9, 21), recipient="The Minister")
    Signature.objects.filter(pk=delivered.pk).update(status="rejected")
    namesake_note = signature_row(
        make_letter(slug="other"), make_individual("Nadia Pendingg"), status="pending"
    )
    Signature.objects.filter(pk=namesake_note.pk).update(
        notes=f"Possible duplicate of individual #{pending.individual_id} “Nadia Pending” (Belarus): near."
    )

    assert personal_data_purge(dry_run=True).forgotten == 2
    outcome = personal_data_purge()

    assert outcome.forgotten == 2
    for signature in (pending, rejected):
        person = Individual.objects.get(pk=signature.individual_id)
        assert (person.title, person.country, person.sort_name) == ("", "", "")
        assert person.name == f"Name deleted after retention (#{person.pk})"
        assert Signature.objects.filter(pk=signature.pk).exists()  # the letter's counts stay
    assert not Correction.objects.filter(signature__in=[pending, printed]).exists()
    history, notes = _history(), Signature.objects.get(pk=namesake_note.pk).notes
    for name in ("Nadia Pending", "Rafael Rejected", "Journalist", "Nadia P. Pending"):
        assert name not in history and name not in notes
    # Printed names stay: on a list, in a delivery, or still on a letter within retention.
    assert set(Individual.objects.values_list("name", flat=True)) >= {
        "Jane Doe",
        "Wanda Waiting",
        "Dora Delivered",
        "Nadia Pendingg",
    }
    assert personal_data_purge().forgotten == 0


def test_a_signer_whose_name_retention_deleted_can_no_longer_be_approved_onto_the_list(
    settings, staff, client
):
    # Retention emptied the records of people still awaiting approval, or rejected, on a letter
    # closed long ago; staff clearing the queue could then approve them, and every day's list of
    # the letter printed "Name deleted after retention (#12)".
    from letters import lifecycle

    settings.RETENTION_DAYS = 30
    old = make_letter(slug="old", closes_at=ago(31))
    signed = dt.datetime(2023, 9, 1, 12, tzinfo=dt.UTC)
    awaiting = signature_row(
        old, make_individual("Ana Awaiting"), signed, status="confirmed", confirmed_at=signed
    )
    rejected = signature_row(
        old, make_individual("Rui Rejected"), signed, status="rejected", confirmed_at=signed, source="form"
    )
    assert personal_data_purge().forgotten == 2

    outcome = lifecycle.signatures_approve(signatures=Signature.objects.filter(letter=old), user=staff)

    assert outcome.changed == 0
    for signature in (awaiting, rejected):
        signature.refresh_from_db()
        assert signature.status != Signature.Status.APPROVED
    assert "Name deleted" not in client.get("/letters/old/?as_of=2023-09-02").content.decode()
    # Nor can the signer's page put a name back, nor staff enter the record on another letter by hand.
    with pytest.raises(ValidationError):
        lifecycle.correction_propose(signature=awaiting, entry={"name": "Ana Awaiting"}, confirmed=True)
    awaiting.individual.refresh_from_db()
    assert lifecycle.entry_errors(make_letter(slug="new"), awaiting.individual, ago(1))


def test_the_purge_of_a_never_printed_name_leaves_other_signers_texts_that_contain_it(settings, staff):
    # The name of a never-confirmed sign-up ("Lee", "test") was replaced in every entry of the
    # admin history and every signature's notes: "Lee Yanghee", whose name is printed, became
    # "[erased] Yanghee" in the history of her approval and in the notes staff wrote about her.
    from letters import lifecycle

    settings.RETENTION_DAYS = 30
    old = make_letter(slug="old", closes_at=ago(31))
    signature_row(old, make_individual("Lee"), status="pending")
    current = make_letter(slug="current")
    yanghee = signature_row(
        current, make_individual("Lee Yanghee"), status="confirmed", notes="Called Lee Yanghee: test ok"
    )
    lifecycle.signatures_approve(signatures=Signature.objects.filter(pk=yanghee.pk), user=staff)

    assert personal_data_purge().forgotten == 1

    assert "Lee Yanghee" in _history()
    yanghee.refresh_from_db()
    assert yanghee.notes == "Called Lee Yanghee: test ok"


def test_a_signer_whose_name_retention_deleted_leaves_the_queue_staff_cannot_act_on(settings, staff_client):
    # The queue of a long-closed letter kept "Name deleted after retention (#12)" awaiting approval,
    # though nobody may approve it any more.
    settings.RETENTION_DAYS = 30
    old = make_letter(slug="old", closes_at=ago(31))
    waiting = signature_row(old, make_individual("Nadia Waiting"), status="confirmed", confirmed_at=ago(40))
    signature_row(old, make_organization("Org awaiting"), status="confirmed", confirmed_at=ago(40))
    personal_data_purge()

    queue = staff_client.get("/admin/letters/signature/").content.decode()
    assert f"(#{waiting.individual_id})" not in queue and "Org awaiting" in queue
    letters = staff_client.get("/admin/letters/letter/").content.decode()
    assert ">1 awaiting approval</a>" in letters

"""The moderation queue: what it lists, its warnings, and each bulk action."""

import datetime as dt
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from letters.lifecycle.merging import individual_merge
from letters.models import Signature
from letters.rosters import Roster
from signatories.normalize import canonical_email
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db

QUEUE = "/admin/letters/signature/"
T0 = dt.datetime(2023, 9, 1, 12, tzinfo=dt.UTC)


def confirmed(letter, signatory, minutes: int = 0, **fields):
    moment = T0 + dt.timedelta(minutes=minutes)
    defaults = {"submitted_at": moment, "confirmed_at": moment, "signed_at": moment}
    return signature_row(letter, signatory, status=Signature.Status.CONFIRMED, **(defaults | fields))


def listed(response) -> list[Signature]:
    return list(response.context["cl"].result_list)


def test_the_queue_lists_confirmed_signatures_awaiting_approval_oldest_first(staff_client, letter):
    newer = confirmed(letter, make_individual("Newer Person"), minutes=30)
    older = confirmed(letter, make_organization("Older Organization"), minutes=5)
    signature_row(letter, make_individual("Approved Person"))
    signature_row(letter, make_individual("Pending Person"), status=Signature.Status.PENDING)
    signature_row(letter, make_individual("Rejected Person"), status=Signature.Status.REJECTED)
    confirmed(letter, make_individual("Withdrawn Person"), withdrawn_at=T0 + dt.timedelta(hours=1))

    response = staff_client.get(QUEUE)

    assert response.status_code == 200
    assert listed(response) == [older, newer]
    html = response.content.decode()
    assert "Older Organization" in html and "Approved Person" not in html


def test_the_queue_shows_email_country_and_times(staff_client, letter):
    confirmed(
        letter, make_individual("Ana Pérez", title="Lawyer", country="AR"), contact_email="ana@example.org"
    )
    html = staff_client.get(QUEUE).content.decode()
    for text in ["Ana Pérez", "Lawyer", "ana@example.org", "Argentina", "individual"]:
        assert text in html


def test_searching_looks_beyond_the_queue(staff_client, letter):
    approved = signature_row(letter, make_individual("Findable Person"))
    response = staff_client.get(QUEUE, {"q": "Findable"})
    assert listed(response) == [approved]


def test_other_statuses_are_one_click_away(staff_client, letter):
    pending = signature_row(letter, make_individual(), status=Signature.Status.PENDING)
    confirmed(letter, make_individual())
    assert listed(staff_client.get(QUEUE, {"queue": "pending"})) == [pending]
    assert len(listed(staff_client.get(QUEUE, {"queue": "all"}))) == 2


def test_it_warns_of_an_email_used_by_another_signature_of_the_letter(staff_client, letter):
    first = confirmed(letter, make_organization("One"), contact_email="J.Doe+x@Gmail.com")
    second = confirmed(letter, make_organization("Two"), contact_email="jdoe@gmail.com", minutes=1)
    alone = confirmed(letter, make_organization("Three"), contact_email="other@example.org", minutes=2)
    other_letter = make_letter()
    confirmed(other_letter, make_organization("Four"), contact_email="other@example.org")

    rows = {row.pk: row for row in listed(staff_client.get(QUEUE, {"queue": "all"}))}

    assert rows[first.pk].warn_email and rows[second.pk].warn_email
    assert not rows[alone.pk].warn_email


def test_it_warns_of_many_signatures_from_one_network_within_an_hour(staff_client, letter):
    burst = [confirmed(letter, make_individual(), minutes=m * 2, ip_hash="abc") for m in range(20)]
    spread = [confirmed(letter, make_individual(), minutes=m, ip_hash="def") for m in (0, 120)]

    rows = {row.pk: row for row in listed(staff_client.get(QUEUE))}

    assert all(rows[s.pk].warn_ip == 20 for s in burst)
    assert all(rows[s.pk].warn_ip < 20 for s in spread)
    assert "20 signatures from one network within an hour" in staff_client.get(QUEUE).content.decode()


def test_an_office_signing_together_is_not_flagged(staff_client, letter):
    # Colleagues behind one address (or everyone on 127.0.0.1 in development).
    office = [confirmed(letter, make_individual(), minutes=m * 4, ip_hash="office") for m in range(8)]

    html = staff_client.get(QUEUE).content.decode()

    assert len(office) == 8
    assert "from one network" not in html


def test_it_warns_of_an_organization_close_to_an_existing_one(staff_client, letter):
    make_organization("Human Rights Watch", acronym="HRW")
    near = confirmed(letter, make_organization("The Human Rights Watch"))
    same_acronym = confirmed(letter, make_organization("H. R. Watch", acronym="hrw"), minutes=1)
    unrelated = confirmed(letter, make_organization("Amnesty International", acronym="AI"), minutes=2)

    rows = {row.pk: row for row in listed(staff_client.get(QUEUE))}

    assert rows[near.pk].warn_organization
    assert rows[same_acronym.pk].warn_organization
    assert not rows[unrelated.pk].warn_organization


def test_it_warns_of_an_organization_spelled_a_letter_away_from_another(staff_client, letter):
    make_organization("Amnesty International", country="GB")
    typo = confirmed(letter, make_organization("Amnesty Internatonal"))
    elsewhere = confirmed(letter, make_organization("Women for Justica", country="UG"), minutes=1)
    make_organization("Women for Justice", country="KE")

    rows = {row.pk: row for row in listed(staff_client.get(QUEUE))}

    assert rows[typo.pk].close_organization is not None
    assert rows[elsewhere.pk].close_organization is None  # another country: another organization


@pytest.mark.parametrize(
    "email",
    [
        "J.Doe+letters@Gmail.com",
        "jdoe@googlemail.com",
        "Someone+tag@Outlook.com",
        "first.last+x@example.org",
        "plain@proton.me",
        "no-at-sign",
    ],
)
def test_the_stored_mailbox_is_the_canonical_email_however_the_signature_is_written(letter, email):
    signature = signature_row(letter, make_individual(), contact_email=email)
    [made] = Signature.objects.bulk_create(
        [Signature(letter=letter, individual=make_individual(), contact_email=email)]
    )
    moved = signature_row(letter, make_individual())
    Signature.objects.filter(pk=moved.pk).update(contact_email=email)
    edited = signature_row(letter, make_individual())
    edited.contact_email = email
    edited.save(update_fields=["contact_email"])
    mailboxes = Signature.objects.filter(pk__in=[signature.pk, made.pk, moved.pk, edited.pk]).values_list(
        "contact_mailbox", flat=True
    )
    assert set(mailboxes) == {canonical_email(email)}


def test_the_queue_query_count_does_not_grow_with_the_rows(staff_client, letter):
    def count_queries(n: int) -> int:
        Signature.objects.all().delete()
        for i in range(n):
            signatory = make_organization(f"Org {i}") if i % 2 else make_individual(f"Person {i}")
            confirmed(
                letter, signatory, minutes=i, ip_hash=f"ip{i % 7}", contact_email=f"p{i % 50}@example.org"
            )
        with CaptureQueriesContext(connection) as queries:
            response = staff_client.get(QUEUE)
        assert len(listed(response)) == min(n, 100)
        return len(queries)

    assert count_queries(10) == count_queries(300)


def test_the_warnings_are_worked_out_for_the_page_not_for_the_whole_letter(staff_client, letter):
    # Sorting the queue made the database work out every warning of every
    # signature of the letter first: 11 s for a letter of 10,000 (bench/roster.py).
    for i in range(120):
        confirmed(letter, make_individual(f"Person {i}"), minutes=i, contact_email=f"p{i}@example.org")
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(QUEUE)
    assert len(listed(response)) == 100
    warnings = [query["sql"] for query in queries if "EXISTS" in query["sql"]]
    assert len(warnings) == 1
    page = {
        str(pk) for pk in Signature.objects.order_by("submitted_at", "pk").values_list("pk", flat=True)[:100]
    }
    where = warnings[0].rsplit("WHERE", 1)[1]
    assert '"letters_signature"."id" IN (' in where
    assert set(where.split("IN (", 1)[1].split(")")[0].replace(" ", "").split(",")) == page


# -- actions -------------------------------------------------------------------


def post_action(staff_client, action, signatures, **extra):
    # As from the list showing every status (the queue itself hides approved ones).
    data = {"action": action, "_selected_action": [s.pk for s in signatures], **extra}
    return staff_client.post(QUEUE + "?queue=all", data)


def test_approving_records_who_and_when_and_keeps_the_signing_time(staff_client, staff, letter):
    signature = confirmed(letter, make_organization("Org"))
    pending = signature_row(letter, make_individual(), status=Signature.Status.PENDING)
    before = timezone.now()

    response = post_action(staff_client, "approve", [signature, pending])

    assert response.status_code == 302
    signature.refresh_from_db()
    pending.refresh_from_db()
    assert signature.status == Signature.Status.APPROVED
    assert signature.approved_by == staff
    assert signature.approved_at >= before
    assert signature.signed_at == T0  # the confirmation time, not the approval time
    assert pending.status == Signature.Status.PENDING  # an unconfirmed e-mail is never approved
    entry = LogEntry.objects.get(object_id=str(signature.pk))
    assert entry.user == staff and "Approved" in entry.get_change_message()


def approve(staff_client, *signatures):
    return staff_client.post(
        QUEUE + "?queue=all", {"action": "approve", "_selected_action": [s.pk for s in signatures]}
    )


def names_on(letter, day: int) -> list[str]:
    return [entry.name for entry in Roster(letter, dt.date(2023, 9, day)).entries()]


def test_a_second_claim_is_not_approved_onto_days_an_earlier_claim_was_listed(staff_client, letter):
    amnesty = make_organization("Amnesty International")
    signature_row(
        letter, amnesty, signed_at=T0, withdrawn_at=T0 + dt.timedelta(days=9), contact_email="a@amnesty.org"
    )
    second = confirmed(letter, amnesty, minutes=24 * 60, contact_email="b@amnesty.org")

    response = approve(staff_client, second)

    assert "already on the list" in str(list(response.wsgi_request._messages))
    assert names_on(letter, 5) == ["Amnesty International"]
    second.refresh_from_db()
    assert second.status == Signature.Status.CONFIRMED


def test_approving_a_rejected_web_signature_of_someone_entered_since_says_why_it_cannot(staff_client, letter):
    ana = make_individual("Ana Pérez", email="ana@example.org")
    rejected = signature_row(
        letter,
        ana,
        status=Signature.Status.REJECTED,
        submitted_at=T0,
        confirmed_at=T0,
        signed_at=T0,
        rejected_at=T0,
        rejection_reason="Looked fake",
    )
    signature_row(letter, ana, signed_at=T0 + dt.timedelta(days=1), source=Signature.Source.STAFF)

    response = approve(staff_client, rejected)

    assert response.status_code == 302
    assert "it cannot be listed twice" in str(list(response.wsgi_request._messages))
    rejected.refresh_from_db()
    assert rejected.status == Signature.Status.REJECTED
    assert names_on(letter, 5) == ["Ana Pérez"]


def test_a_duplicate_a_merge_retired_is_not_approved_back_onto_the_list(staff_client, staff, letter):
    kept, duplicate = make_individual("Ana Pérez", email="ana@example.org"), make_individual("Ana Perez")
    signature_row(letter, kept, signed_at=T0)
    retired = confirmed(letter, duplicate, minutes=24 * 60, source=Signature.Source.FORM)
    individual_merge(keep=kept, duplicates=[duplicate], user=staff)
    retired.refresh_from_db()
    Signature.objects.filter(pk=retired.merged_into_id).update(withdrawn_at=T0 + dt.timedelta(days=9))

    approve(staff_client, retired)

    retired.refresh_from_db()
    assert retired.status == Signature.Status.REJECTED
    assert names_on(letter, 5) == ["Ana Pérez"] and names_on(letter, 20) == []


def test_rejecting_asks_for_a_reason_first(staff_client, letter):
    signature = confirmed(letter, make_individual())

    page = post_action(staff_client, "reject", [signature])
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED

    empty = post_action(staff_client, "reject", [signature], apply="1", reason="  ")
    assert empty.status_code == 200
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED

    done = post_action(staff_client, "reject", [signature], apply="1", reason="Not a real person")
    assert done.status_code == 302
    signature.refresh_from_db()
    assert signature.status == Signature.Status.REJECTED
    assert signature.rejection_reason == "Not a real person"
    assert signature.rejected_at is not None
    assert "Rejected: Not a real person" in LogEntry.objects.get(object_id=str(signature.pk)).change_message


def test_rejecting_an_approved_signature_takes_it_off_the_roster(staff_client, letter):
    signature = signature_row(letter, make_individual())
    assert Signature.objects.on_roster(letter).count() == 1
    post_action(staff_client, "reject", [signature], apply="1", reason="Asked to be removed")
    assert Signature.objects.on_roster(letter).count() == 0


def test_marking_withdrawn_keeps_the_signature_on_earlier_days(staff_client, letter):
    signature = signature_row(letter, make_individual())

    post_action(staff_client, "mark_withdrawn", [signature], apply="1", reason="Phoned us")

    signature.refresh_from_db()
    assert signature.withdrawn_at is not None
    assert signature.withdrawal_reason == "Phoned us"
    assert Signature.objects.on_roster(letter, as_of=dt.date(2023, 9, 2)).count() == 1
    assert Signature.objects.on_roster(letter).count() == 0
    assert LogEntry.objects.filter(object_id=str(signature.pk), change_message__contains="withdrawn").exists()


def test_resending_the_confirmation_mails_pending_signers_only(
    staff_client, letter, mailoutbox, django_capture_on_commit_callbacks
):
    pending = signature_row(
        letter,
        make_individual(email="pending@example.org"),
        status=Signature.Status.PENDING,
        contact_email="pending@example.org",
    )
    done = confirmed(letter, make_individual(), contact_email="done@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        post_action(staff_client, "resend_confirmation", [pending, done])

    assert [message.to for message in mailoutbox] == [["pending@example.org"]]
    assert LogEntry.objects.filter(object_id=str(pending.pk)).exists()
    assert not LogEntry.objects.filter(object_id=str(done.pk)).exists()


def test_signatures_cannot_be_deleted_from_the_list(staff_client, letter):
    signature = confirmed(letter, make_individual())
    response = staff_client.get(QUEUE)
    assert "delete_selected" not in response.content.decode()
    post_action(staff_client, "delete_selected", [signature], post="yes")
    assert Signature.objects.filter(pk=signature.pk).exists()


def test_approving_on_the_signature_page_records_who_and_when(staff_client, staff, letter):
    signature = confirmed(letter, make_organization("Org"))

    response = staff_client.post(
        f"/admin/letters/signature/{signature.pk}/change/",
        {"CHANGE_FORM-action": "approve", "_selected_action": [signature.pk]},
    )

    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.status == Signature.Status.APPROVED
    assert signature.approved_by == staff and signature.approved_at is not None


def test_the_queue_shows_what_the_form_noticed(staff_client, letter):
    confirmed(letter, make_organization("Amnesty Intl"), notes="Possible duplicate of organization #1")
    assert "Possible duplicate of organization #1" in staff_client.get(QUEUE).content.decode()


def submit_confirmation_page(client, page, **fields):
    """Press the confirmation page's button as a browser would: its own action URL and hidden inputs."""
    html = page.content.decode()
    form = html[html.index('<form method="post" action="', html.index('id="content"')) :]
    action = form.split('action="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    data: dict[str, list[str]] = {}
    for tag in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.split("</form>")[0]):
        data.setdefault(tag[0], []).append(tag[1])
    return client.post(action, {**data, **fields}, follow=True)


def test_marking_an_approved_signature_withdrawn_on_its_page_withdraws_it(staff_client, letter):
    signature = signature_row(letter, make_individual("Jane Doe"))

    page = staff_client.post(
        f"/admin/letters/signature/{signature.pk}/change/",
        {"CHANGE_FORM-action": "mark_withdrawn", "_selected_action": [signature.pk]},
    )
    done = submit_confirmation_page(staff_client, page, reason="Phoned us")

    signature.refresh_from_db()
    assert signature.withdrawn_at is not None and signature.withdrawal_reason == "Phoned us"
    assert "1 signature marked withdrawn." in done.content.decode()


def test_rejecting_from_the_list_of_approved_signatures_rejects_the_ones_chosen(staff_client, letter):
    signature = signature_row(letter, make_individual("Jane Doe"))

    page = staff_client.post(
        QUEUE + f"?letter={letter.pk}&queue=approved",
        {"action": "reject", "_selected_action": [signature.pk], "index": "0"},
    )
    submit_confirmation_page(staff_client, page, reason="Impostor")

    signature.refresh_from_db()
    assert (signature.status, signature.rejection_reason) == ("rejected", "Impostor")


def test_rejecting_all_of_one_letter_s_list_leaves_other_letters_alone(staff_client, letter):
    other = make_letter(slug="other-letter")
    chosen = confirmed(letter, make_individual())
    elsewhere = confirmed(other, make_individual())

    page = staff_client.post(
        QUEUE + f"?letter={letter.pk}",
        {"action": "reject", "_selected_action": [chosen.pk], "select_across": "1", "index": "0"},
    )
    assert "1 signature selected." in page.content.decode()
    submit_confirmation_page(staff_client, page, reason="Spam wave")

    chosen.refresh_from_db()
    elsewhere.refresh_from_db()
    assert chosen.status == Signature.Status.REJECTED
    assert elsewhere.status == Signature.Status.CONFIRMED


def test_only_organizers_may_erase_a_signature_from_the_admin(moderator_client, staff, letter):
    # Moderators, whose group has "no deletion", could erase for good: it cannot be undone.
    signature = signature_row(letter, make_individual("Jane Doe", email="jane@example.org"))

    page = moderator_client.get(QUEUE + "?queue=all").content.decode()
    assert 'value="erase"' not in page and 'value="mark_withdrawn"' in page
    post_action(moderator_client, "erase", [signature], apply="1", confirm="on")
    signature.refresh_from_db()
    assert signature.erased_at is None

    organizer = Client()
    organizer.force_login(staff)
    assert 'value="erase"' in organizer.get(QUEUE + "?queue=all").content.decode()
    post_action(organizer, "erase", [signature], apply="1", confirm="on")
    signature.refresh_from_db()
    assert signature.erased_at is not None

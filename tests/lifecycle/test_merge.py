"""Merging duplicate organizations and individuals."""

import datetime as dt

import pytest
from django.contrib.admin.models import DELETION, LogEntry

from letters.lifecycle.merging import MergeError, individual_merge, organization_merge
from letters.models import Delivery, Signature
from letters.outputs.deliveries import delivery_record, since_delivery
from signatories.models import Individual, Organization
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db

EARLY = dt.datetime(2023, 9, 1, 12, tzinfo=dt.UTC)
LATE = dt.datetime(2023, 9, 5, 12, tzinfo=dt.UTC)


def test_merging_moves_every_signature_to_the_kept_organization(staff, letter):
    keep = make_organization("Amnesty International", acronym="AI")
    duplicate = make_organization("amnesty international", country="GB", website="https://amnesty.org")
    other_letter = make_letter()
    moved = signature_row(other_letter, duplicate)

    outcome = organization_merge(keep=keep, duplicates=[duplicate], user=staff)

    assert (outcome.merged, outcome.moved, outcome.dropped) == (1, 1, 0)
    moved.refresh_from_db()
    assert moved.organization == keep
    assert not Organization.objects.filter(pk=duplicate.pk).exists()
    keep.refresh_from_db()
    # The kept record takes what it lacked, keeps what it had.
    assert (keep.acronym, keep.country.code, keep.website) == ("AI", "GB", "https://amnesty.org")
    deletion = LogEntry.objects.get(object_id=str(duplicate.pk), action_flag=DELETION)
    assert "amnesty international" in deletion.change_message and "Merged into" in deletion.change_message


def test_the_merge_history_keeps_what_a_record_printed_and_none_of_its_private_data(staff, letter):
    # The admin history outlives the retention purge: a merged-away record's
    # address, or an organization's contact, must not survive there.
    keep = make_individual("Ana Lima", email="ana@work.example")
    duplicate = make_individual("Ana  Lima", title="Lawyer", email="ana.home@secret.example")
    keep_org = make_organization("Article 19")
    org = make_organization("ARTICLE 19", contact_name="Rui Private", contact_email="rui@secret.example")

    individual_merge(keep=keep, duplicates=[duplicate], user=staff)
    organization_merge(keep=keep_org, duplicates=[org], user=staff)

    history = repr(list(LogEntry.objects.values_list("object_repr", "change_message")))
    assert "secret.example" not in history and "Rui Private" not in history
    assert "Lawyer" in history and "ARTICLE 19" in history


def test_a_letter_signed_by_both_lists_the_name_once_from_the_earlier_day(staff, letter):
    keep = make_organization("Human Rights Watch")
    duplicate = make_organization("Human Rights Watch Inc")
    later = signature_row(letter, keep, LATE)
    earlier = signature_row(letter, duplicate, EARLY, contact_email="early@example.org")

    outcome = organization_merge(keep=keep, duplicates=[duplicate], user=staff)

    assert (outcome.moved, outcome.dropped) == (2, 1)
    [listed] = Signature.objects.on_roster(letter, as_of=dt.date(2023, 9, 10))
    assert listed == earlier
    earlier.refresh_from_db()
    assert earlier.organization == keep and earlier.signed_at == EARLY
    # The other is retired, not deleted: it stands in the history, pointing at the one kept.
    later.refresh_from_db()
    assert (later.status, later.merged_into, later.organization) == ("rejected", earlier, keep)
    entry = LogEntry.objects.get(object_id=str(later.pk), content_type__model="signature")
    assert f"Duplicate of signature #{earlier.pk}" in entry.change_message


def test_a_signature_that_counts_wins_over_an_earlier_one_that_does_not(staff, letter):
    keep, duplicate = make_individual("Ana Pérez"), make_individual("Ana Perez")
    rejected = signature_row(letter, keep, EARLY, status=Signature.Status.REJECTED)
    valid = signature_row(letter, duplicate, LATE)

    individual_merge(keep=keep, duplicates=[duplicate], user=staff)

    assert Signature.objects.on_roster(letter).get() == valid
    assert Signature.objects.on_roster(letter).get().individual == keep
    rejected.refresh_from_db()
    assert rejected.merged_into == valid


def test_a_merge_never_takes_a_listed_name_off(staff, letter):
    # Issue #10, 4: #1 confirmed (earlier), #2 approved and listed; the merge kept #1 and deleted #2.
    first = make_individual("Marguerite Duplessis", email="m.duplessis@example.org")
    second = make_individual("Marguerite Duplessis", email="marguerite@example.org")
    signature_row(letter, first, EARLY, status=Signature.Status.CONFIRMED, confirmed_at=EARLY)
    approved = signature_row(letter, second, LATE)
    days = [dt.date(2023, 9, day) for day in (1, 5, 6, 30)]
    before = {day: list(Signature.objects.on_roster(letter, as_of=day).individuals()) for day in days}

    individual_merge(keep=first, duplicates=[second], user=staff)

    for day in days:
        names = [s.individual.name for s in Signature.objects.on_roster(letter, as_of=day).individuals()]
        assert names == [s.individual.name for s in before[day]], day
    assert Signature.objects.on_roster(letter).get() == approved


def test_a_delivery_keeps_naming_signatures_that_exist_and_sees_no_change(staff, letter):
    keep, duplicate = make_organization("Front Line Defenders"), make_organization("Front-Line Defenders")
    signature_row(letter, keep, LATE)
    signature_row(letter, duplicate, EARLY)
    delivery = delivery_record(letter=letter, as_of=dt.date(2023, 9, 10), recipient="The Minister")
    assert len(delivery.signature_ids) == 2

    organization_merge(keep=keep, duplicates=[duplicate], user=staff)

    delivery = Delivery.objects.get(pk=delivery.pk)
    assert Signature.objects.filter(pk__in=delivery.signature_ids).count() == 2
    changes = since_delivery(delivery, dt.date(2023, 9, 10))
    assert (changes.added, changes.withdrawn, changes.removed) == ([], [], [])


def test_someone_who_withdrew_and_signed_again_keeps_both_periods(staff, letter):
    keep, duplicate = make_individual("Lee Yanghee"), make_individual("Lee Yang-hee")
    signature_row(letter, duplicate, EARLY, withdrawn_at=dt.datetime(2023, 9, 3, tzinfo=dt.UTC))
    signature_row(letter, keep, LATE)

    individual_merge(keep=keep, duplicates=[duplicate], user=staff)

    listed = {
        day: Signature.objects.on_roster(letter, as_of=dt.date(2023, 9, day)).count() for day in (1, 3, 5)
    }
    assert listed == {1: 1, 3: 0, 5: 1}


def test_merging_three_periods_that_overlap_in_a_chain_lists_the_name_once_every_day(staff, letter):
    # 1–5 Sep, 4–12 Sep and from 10 Sep on: the first overlaps only the second, which overlaps the third.
    def noon(day: int) -> dt.datetime:
        return dt.datetime(2023, 9, day, 12, tzinfo=dt.UTC)

    first, second, third = (make_individual("Ann Roe", email=f"ann@{n}.example") for n in range(3))
    signature_row(letter, first, noon(1), withdrawn_at=noon(5))
    signature_row(letter, second, noon(4), withdrawn_at=noon(12))
    signature_row(letter, third, noon(10))

    individual_merge(keep=third, duplicates=[first, second], user=staff)

    listed = {
        day: Signature.objects.on_roster(letter, as_of=dt.date(2023, 9, day)).count() for day in range(1, 20)
    }
    assert listed == dict.fromkeys(range(1, 20), 1)


def test_merging_individuals_carries_the_email_over(staff, letter):
    keep = make_individual("Lee Yanghee")
    duplicate = make_individual("Yanghee Lee", email="lee@example.org", title="Professor")

    individual_merge(keep=keep, duplicates=[duplicate], user=staff)

    keep.refresh_from_db()
    assert (keep.email, keep.canonical_email, keep.title) == (
        "lee@example.org",
        "lee@example.org",
        "Professor",
    )
    assert Individual.objects.count() == 1


def test_merging_a_record_into_itself_is_refused(staff):
    org = make_organization("Alone")
    with pytest.raises(MergeError):
        organization_merge(keep=org, duplicates=[org], user=staff)


def test_the_admin_action_asks_which_record_to_keep_then_says_what_will_happen(client, staff, letter):
    client.force_login(staff)
    first, second = (
        make_organization("Médecins Sans Frontières"),
        make_organization("Medecins sans frontieres"),
    )
    signature_row(letter, second)
    selection = {"action": "merge_selected", "_selected_action": [first.pk, second.pk]}

    redirect = client.post("/admin/signatories/organization/", selection)
    page = client.get(redirect["Location"])
    assert page.status_code == 200
    assert 'name="keep"' in page.content.decode()
    preview = client.get(redirect["Location"] + f"&keep={second.pk}").content.decode()
    assert "Protect civic space" in preview and f"#{second.pk}" in preview
    assert Organization.objects.count() == 2

    done = client.post(
        "/admin/signatories/organization/merge/", {"ids": f"{first.pk},{second.pk}", "keep": second.pk}
    )

    assert done.status_code == 302
    assert list(Organization.objects.all()) == [second]
    assert Signature.objects.get().organization == second


def test_a_kept_record_stored_before_todays_name_rules_makes_the_merge_say_so(staff, letter):
    keep, duplicate = make_individual("Ana Pérez"), make_individual("Ana Perez")
    Individual.objects.filter(pk=keep.pk).update(name="\u202eAna Pérez")  # saved before the rule existed
    keep.refresh_from_db()
    signature_row(letter, duplicate, EARLY)

    with pytest.raises(MergeError, match="Correct it, then merge"):
        individual_merge(keep=keep, duplicates=[duplicate], user=staff)

    assert Individual.objects.filter(pk=duplicate.pk).exists()
    assert Signature.objects.get(letter=letter).individual_id == duplicate.pk


def test_the_merge_page_gives_the_days_of_the_letter_s_own_calendar(staff_client, letter):
    # 02:00 UTC on 1 September is still 31 August in New York, the letter's zone: its list of that day.
    late_evening = dt.datetime(2023, 9, 1, 2, tzinfo=dt.UTC)
    first, second = make_individual("Ana Pérez"), make_individual("Ana Perez")
    signature_row(letter, first, late_evening, withdrawn_at=dt.datetime(2023, 9, 10, 2, tzinfo=dt.UTC))
    signature_row(letter, second, LATE, withdrawn_at=dt.datetime(2023, 9, 8, 12, tzinfo=dt.UTC))

    page = staff_client.get(
        f"/admin/signatories/individual/merge/?ids={first.pk},{second.pk}&keep={first.pk}"
    ).content.decode()

    assert "signed 31 Aug 2023" in page
    assert "on the list from 31 Aug 2023 until 9 Sep 2023" in page


def test_a_correction_waiting_on_a_merged_signature_ends_when_the_entry_that_stands_for_it_is_withdrawn(
    staff, letter
):
    # The retired duplicate's correction escaped the withdrawal of the signature kept in its place:
    # staff approving it (or its link) still rewrote the name on the days the person was listed.
    from letters import lifecycle
    from letters.models import Correction

    keep, duplicate = make_individual("Jane Doe", email="jane@example.org"), make_individual("Jane  Doe")
    kept = signature_row(letter, keep, dt.datetime(2023, 9, 1, 12, tzinfo=dt.UTC))
    retired = signature_row(
        letter, duplicate, status="confirmed", confirmed_at=dt.datetime(2023, 9, 5, tzinfo=dt.UTC)
    )
    Correction.objects.create(signature=retired, name="Jane Q. Doe", status="confirmed")
    later_letter = make_letter(slug="later")
    withdrawn = signature_row(later_letter, keep, dt.datetime(2023, 9, 1, 12, tzinfo=dt.UTC))
    lifecycle.signature_withdraw(signature=withdrawn)
    on_later = signature_row(
        later_letter, duplicate, status="confirmed", confirmed_at=dt.datetime(2023, 9, 5, tzinfo=dt.UTC)
    )
    Correction.objects.create(signature=on_later, name="Jane R. Doe", status="confirmed")

    individual_merge(keep=keep, duplicates=[duplicate], user=staff)
    lifecycle.signature_withdraw(signature=kept)

    assert lifecycle.corrections_approve(corrections=Correction.objects.all(), user=staff).changed == 0
    assert set(Correction.objects.values_list("status", flat=True)) == {Correction.Status.WITHDRAWN}
    keep.refresh_from_db()
    assert keep.name == "Jane Doe"


def test_a_record_whose_name_was_deleted_is_merged_with_nobody(staff, letter, client):
    # Kept, it printed "Erased signatory #1" in place of the name of the person merged into it;
    # merged away, it tied the signatures of someone who asked to be erased to another person.
    from letters import lifecycle

    erased = make_individual("Jane Roe", email="roe@example.org")
    lifecycle.signature_erase(signature=signature_row(letter, erased))
    jane = make_individual("Jane Doe")
    signature_row(letter, jane)

    for keep, duplicate in ((erased, jane), (jane, erased)):
        keep.refresh_from_db()
        duplicate.refresh_from_db()
        with pytest.raises(MergeError):
            individual_merge(keep=keep, duplicates=[duplicate], user=staff)

    page = client.get("/letters/civic-space/").content.decode()
    assert "Jane Doe" in page and "Erased signatory" not in page
    assert Signature.objects.filter(individual=erased).count() == 1


def test_a_name_only_merge_never_hands_a_listed_person_to_a_strangers_unconfirmed_claim(
    client, staff, letter
):
    # The duplicates page paired an imported "Paul Real" (no e-mail) with a stranger's pending "Paul Real";
    # keeping the imported record copied the stranger's address into it, and the stranger's link then
    # reached (and erased) Paul Real's entry on every letter.
    from letters import lifecycle

    other = make_letter()
    paul = make_individual("Paul Real", title="Bishop of Veltrana")
    listed = signature_row(letter, paul, source=Signature.Source.IMPORT)
    elsewhere = signature_row(other, paul, source=Signature.Source.IMPORT)
    stranger = make_individual("Paul Real", email="stranger@example.net")
    claim = signature_row(
        letter,
        stranger,
        status=Signature.Status.PENDING,
        source=Signature.Source.FORM,
        contact_email="stranger@example.net",
    )

    client.force_login(staff)
    page = client.get("/admin/signatories/individual/duplicates/").content.decode()
    assert "never confirmed" in page
    preview = client.get(
        f"/admin/signatories/individual/merge/?ids={paul.pk},{stranger.pk}&keep={paul.pk}"
    ).content.decode()
    assert "never confirmed" in preview

    individual_merge(keep=paul, duplicates=[stranger], user=staff)

    paul.refresh_from_db()
    assert (paul.email, paul.canonical_email) == ("", "")
    claim.refresh_from_db()
    assert lifecycle.signature_kept(claim) == claim
    lifecycle.signature_erase(signature=claim)
    for signature in (listed, elsewhere):
        signature.refresh_from_db()
        assert signature.erased_at is None and signature.status == Signature.Status.APPROVED
    paul.refresh_from_db()
    assert (paul.name, paul.title) == ("Paul Real", "Bishop of Veltrana")


def test_a_claim_merged_onto_a_vetted_record_and_confirmed_later_cannot_rewrite_it(staff, letter):
    # The stranger's pending "Paul Real" on a letter Paul never signed moves to Paul's record in a merge;
    # confirming it proves the stranger's address, not that they are Paul.
    from django.core.exceptions import ValidationError

    from letters import lifecycle

    paul = make_individual("Paul Real", title="Bishop of Veltrana")
    signature_row(letter, paul, source=Signature.Source.IMPORT)
    stranger = make_individual("Paul Real", email="stranger@example.net")
    claim = signature_row(
        make_letter(),
        stranger,
        status=Signature.Status.PENDING,
        source=Signature.Source.FORM,
        contact_email="stranger@example.net",
    )
    individual_merge(keep=paul, duplicates=[stranger], user=staff)
    claim.refresh_from_db()
    lifecycle.signature_confirm(signature=claim)

    entry = {"name": "Paul Real", "title": "supports the law", "country": ""}
    with pytest.raises(ValidationError):
        lifecycle.correction_propose(signature=claim, entry=entry, confirmed=True)
    paul.refresh_from_db()
    assert paul.title == "Bishop of Veltrana"


def test_the_rejected_queue_does_not_list_the_duplicates_a_merge_retired(staff, staff_client, letter):
    # The dashboard stopped counting them as rejections; the queue still listed
    # them under "rejected", next to the signatures an organizer turned down.
    keep = make_organization("Human Rights Watch")
    duplicate = make_organization("Human Rights Watch Inc")
    signature_row(letter, keep, LATE)
    signature_row(letter, duplicate, EARLY)
    organization_merge(keep=keep, duplicates=[duplicate], user=staff)
    turned_down = signature_row(letter, make_individual("Spam Bot"), LATE, status=Signature.Status.REJECTED)

    response = staff_client.get("/admin/letters/signature/?queue=rejected")

    assert list(response.context["cl"].result_list) == [turned_down]

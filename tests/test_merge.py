"""Merging duplicate organizations and individuals."""

import datetime as dt

import pytest
from django.contrib.admin.models import DELETION, LogEntry

from letters.models import Signature
from signatories.models import Individual, Organization
from letters.merging import MergeError, individual_merge, organization_merge

from .factories import make_individual, make_letter, make_organization, sign

pytestmark = pytest.mark.django_db

EARLY = dt.datetime(2023, 9, 1, 12, tzinfo=dt.UTC)
LATE = dt.datetime(2023, 9, 5, 12, tzinfo=dt.UTC)


def test_merging_moves_every_signature_to_the_kept_organization(staff, letter):
    keep = make_organization("Amnesty International", acronym="AI")
    duplicate = make_organization("amnesty international", country="GB", website="https://amnesty.org")
    other_letter = make_letter()
    moved = sign(other_letter, duplicate)

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


def test_a_letter_signed_by_both_keeps_the_earlier_signature(staff, letter):
    keep = make_organization("Human Rights Watch")
    duplicate = make_organization("Human Rights Watch Inc")
    later = sign(letter, keep, LATE)
    earlier = sign(letter, duplicate, EARLY, contact_email="early@example.org")

    outcome = organization_merge(keep=keep, duplicates=[duplicate], user=staff)

    assert (outcome.moved, outcome.dropped) == (1, 1)
    assert list(Signature.objects.filter(letter=letter)) == [earlier]
    earlier.refresh_from_db()
    assert earlier.organization == keep and earlier.signed_at == EARLY
    # The dropped signature is gone only with a record of what it was.
    entry = LogEntry.objects.get(object_id=str(later.pk), action_flag=DELETION)
    assert "Signature #" in entry.change_message and "2023-09-05" in entry.change_message


def test_a_signature_that_counts_wins_over_an_earlier_one_that_does_not(staff, letter):
    keep, duplicate = make_individual("Ana Pérez"), make_individual("Ana Perez")
    sign(letter, keep, EARLY, status=Signature.Status.REJECTED)
    valid = sign(letter, duplicate, LATE)

    individual_merge(keep=keep, duplicates=[duplicate], user=staff)

    assert list(Signature.objects.filter(letter=letter)) == [valid]
    assert Signature.objects.on_roster(letter).get().individual == keep


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


def test_the_admin_action_asks_which_record_to_keep(client, staff, letter):
    client.force_login(staff)
    first, second = (
        make_organization("Médecins Sans Frontières"),
        make_organization("Medecins sans frontieres"),
    )
    sign(letter, second)
    selection = {"action": "merge_selected", "_selected_action": [first.pk, second.pk]}

    page = client.post("/admin/signatories/organization/", selection)
    assert page.status_code == 200
    assert 'name="keep"' in page.content.decode()
    assert Organization.objects.count() == 2

    done = client.post("/admin/signatories/organization/", {**selection, "apply": "1", "keep": second.pk})

    assert done.status_code == 302
    assert list(Organization.objects.all()) == [second]
    assert Signature.objects.get().organization == second

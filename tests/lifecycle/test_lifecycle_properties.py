"""
The lifecycle as a property: random interleavings of what signers, staff, imports
and merges do never list a name twice on any day, never list a web signature
nobody confirmed, never print the name of a signer who asked not to be named,
never list an entry staff suspended (on any day, until reinstated), never change
a recorded delivery, and never list a signer under a text whose meaning changed
since they signed it without the mark "signed an earlier version".
"""

import contextlib
import datetime as dt
import hashlib
import itertools
import json
from unittest import mock

import pytest
import tablib
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from letters import lifecycle
from letters.lifecycle import moderation
from letters.lifecycle.merging import MergeError, individual_merge
from letters.models import Correction, Delivery, Letter, Signature
from letters.outputs.deliveries import delivery_record
from letters.outputs.press import csv_chunks, roster_json
from letters.rosters import Roster
from letters.signing import services
from letters.spreadsheets.resources import SignatureImportResource
from signatories.models import Individual
from tests.factories import make_letter

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

PEOPLE = ["Samuel Abebe", "Marguerite Duplessis", "Lee Yanghee"]
TITLES = ["Professor of Law", "Supporter of the crackdown", ""]
ORGANIZATIONS = ["Civil Liberties Union of Veltrana", "Front Line Defenders"]
CLAIMANTS = ["director@clu.example.org", "impostor@gmail.com", "staff@fld.example.org"]
DAYS = [dt.date(2023, 9, 1), dt.date(2023, 9, 2), dt.date(2023, 9, 3)]
_runs = itertools.count()


class Lifecycle(RuleBasedStateMachine):
    @initialize(requires_approval=st.booleans())
    def open_a_letter(self, requires_approval: bool) -> None:
        run = next(_runs)
        self.letter = make_letter(slug=f"property-{run}", requires_approval=requires_approval)
        self.emails = [f"{name.split()[0].lower()}.{run}@example.org" for name in PEOPLE]
        from django.contrib.auth import get_user_model

        self.staff, _ = get_user_model().objects.get_or_create(username="property-staff", is_staff=True)
        self.deliveries: dict[int, tuple] = {}
        # When staff entered each imported signature: under the text as it stood then.
        self.entered: dict[int, dt.datetime] = {}

    # -- helpers -------------------------------------------------------------

    def signatures(self):
        return Signature.objects.filter(letter=self.letter).order_by("pk")

    def pick(self, index: int) -> Signature | None:
        signatures = list(self.signatures())
        return signatures[index % len(signatures)] if signatures else None

    # -- what signers do -----------------------------------------------------

    @rule(person=st.integers(0, 2), title=st.sampled_from(TITLES), unnamed=st.booleans())
    def sign_as_a_person(self, person: int, title: str, unnamed: bool) -> None:
        services.signature_submit(
            letter=self.letter,
            kind="individual",
            name=PEOPLE[person],
            title=title,
            email=self.emails[person],
            public_consent=True,
            unnamed=unnamed,
        )

    @rule(
        organization=st.integers(0, 1),
        claimant=st.integers(0, 2),
        acronym=st.sampled_from(["", "CLU"]),
        unnamed=st.booleans(),
    )
    def sign_for_an_organization(self, organization: int, claimant: int, acronym: str, unnamed: bool) -> None:
        services.signature_submit(
            letter=self.letter,
            kind="organization",
            organization_name=ORGANIZATIONS[organization],
            acronym=acronym,
            name="Someone",
            email=CLAIMANTS[claimant],
            public_consent=True,
            unnamed=unnamed,
        )

    @rule(index=st.integers(0, 50), unnamed=st.booleans())
    def choose_how_the_list_shows_me(self, index: int, unnamed: bool) -> None:
        if signature := self.pick(index):
            lifecycle.signature_publication_set(signature=signature, unnamed=unnamed)

    @rule(index=st.integers(0, 50))
    def open_a_confirmation_link(self, index: int) -> None:
        if signature := self.pick(index):
            lifecycle.signature_confirm(signature=signature)

    @rule(index=st.integers(0, 50))
    def confirm_a_correction(self, index: int) -> None:
        corrections = list(Correction.objects.filter(signature__letter=self.letter).order_by("pk"))
        if corrections:
            lifecycle.correction_confirm(correction=corrections[index % len(corrections)])

    @rule(index=st.integers(0, 50))
    def withdraw(self, index: int) -> None:
        if signature := self.pick(index):
            lifecycle.signature_withdraw(signature=signature)

    @rule(index=st.integers(0, 50))
    def keep_my_name_under_the_new_text(self, index: int) -> None:
        if signature := self.pick(index):
            lifecycle.signature_reconsent(signature=signature)

    @rule(index=st.integers(0, 50))
    def erase(self, index: int) -> None:
        if signature := self.pick(index):
            lifecycle.signature_erase(signature=signature)

    # -- what staff do -------------------------------------------------------

    @rule(index=st.integers(0, 50))
    def approve(self, index: int) -> None:
        # Staff heed the queue's warning that someone of the same name is on the list.
        if signature := self.pick(index):
            candidates = moderation.with_warnings(Signature.objects.filter(pk=signature.pk))
            lifecycle.signatures_approve(signatures=candidates.filter(warn_namesake=False), user=self.staff)

    @rule(index=st.integers(0, 50))
    def approve_corrections(self, index: int) -> None:
        lifecycle.corrections_approve(
            corrections=Correction.objects.filter(signature__letter=self.letter), user=self.staff
        )

    @rule(index=st.integers(0, 50))
    def reject(self, index: int) -> None:
        if signature := self.pick(index):
            lifecycle.signatures_reject(
                signatures=Signature.objects.filter(pk=signature.pk), user=self.staff, reason="No"
            )

    @rule(index=st.integers(0, 50))
    def suspend_a_disputed_entry(self, index: int) -> None:
        if signature := self.pick(index):
            lifecycle.signature_suspend(signature=signature, user=self.staff, reason="Disputed")

    @rule(index=st.integers(0, 50))
    def reinstate(self, index: int) -> None:
        if signature := self.pick(index):
            lifecycle.signature_reinstate(signature=signature, user=self.staff)

    @rule(person=st.integers(0, 2), day=st.sampled_from(DAYS))
    def import_a_row_without_email(self, person: int, day: dt.date) -> None:
        dataset = tablib.Dataset(headers=["type", "name", "signed_on"])
        dataset.append(["individual", PEOPLE[person].upper(), day.isoformat()])
        before = set(self.signatures().values_list("pk", flat=True))
        SignatureImportResource(letter=self.letter).import_data(dataset, dry_run=False, user=self.staff)
        now = timezone.now()
        for pk in self.signatures().exclude(pk__in=before).values_list("pk", flat=True):
            self.entered[pk] = now

    @rule(first=st.integers(0, 50), second=st.integers(0, 50))
    def merge_two_records_of_one_person(self, first: int, second: int) -> None:
        # Staff merge what the duplicates page pairs: records of one name.
        people = list(Individual.objects.filter(signatures__letter=self.letter).distinct().order_by("pk"))
        if len(people) < 2:
            return
        keep, duplicate = people[first % len(people)], people[second % len(people)]
        if keep.name_key == duplicate.name_key:
            with contextlib.suppress(MergeError):  # the same record twice
                individual_merge(keep=keep, duplicates=[duplicate], user=self.staff)

    @rule(material=st.booleans())
    def change_the_text(self, material: bool) -> None:
        body = f"{self.letter.body} And more, {next(_runs)}."
        lifecycle.letter_text_change(
            letter=self.letter, user=self.staff, material=material, note="Changed.", body=body
        )
        # The form shows the text as it now stands to whoever opens it next.
        self.letter = Letter.objects.get(pk=self.letter.pk)

    @rule()
    def deliver_todays_list(self) -> None:
        try:
            delivery = delivery_record(
                letter=self.letter, as_of=self.letter.today(), recipient="The Minister"
            )
        except ValidationError:
            return  # nobody on the list yet: nothing to deliver
        self.deliveries[delivery.pk] = (delivery.entries, delivery.signature_ids, delivery.pdf_sha256)
        frozen = repr(delivery.entries)
        for name in self.hidden_names(self.letter.today()):
            assert name not in frozen, name

    # -- what must always hold -----------------------------------------------

    def hidden_names(self, day: dt.date) -> set[str]:
        """The names of the day's unnamed signers that no named signer on the list shares."""
        listed = Signature.objects.on_roster(self.letter, as_of=day).select_related(
            "individual", "organization"
        )
        names = {True: set(), False: set()}
        for signature in listed:
            names[signature.unnamed].add(signature.signatory.name)
        return names[True] - names[False]

    @invariant()
    def no_unnamed_signer_is_printed_and_everyone_is_counted(self) -> None:
        if not hasattr(self, "letter"):
            return
        for day in [*DAYS, self.letter.today()]:
            roster = Roster(self.letter, day)
            printed = (
                json.dumps(roster_json(roster)) + b"".join(csv_chunks(Roster(self.letter, day))).decode()
            )
            for name in self.hidden_names(day):
                assert name not in printed, (day, name)
            listed = Signature.objects.on_roster(self.letter, as_of=day)
            assert roster.counts["total"] == listed.count(), day
            assert len(roster.entries()) == listed.filter(unnamed=False).count(), day

    @invariant()
    def no_name_twice_and_no_unconfirmed_web_signature_on_any_day(self) -> None:
        if not hasattr(self, "letter"):
            return
        for day in [*DAYS, self.letter.today()]:
            listed = list(
                Signature.objects.on_roster(self.letter, as_of=day).select_related(
                    "individual", "organization"
                )
            )
            signatories = [(s.individual_id, s.organization_id) for s in listed]
            assert len(signatories) == len(set(signatories)), day
            names = [s.individual.name_key for s in listed if s.individual_id]
            assert len(names) == len(set(names)), (day, names)
            for signature in listed:
                if signature.source == Signature.Source.FORM:
                    assert signature.confirmed_at is not None, signature

    @invariant()
    def nobody_is_listed_unmarked_under_a_meaning_they_were_not_shown(self) -> None:
        if not hasattr(self, "letter"):
            return
        letter = Letter.objects.get(pk=self.letter.pk)
        listed = (
            Signature.objects.on_roster(letter)
            .filter(unnamed=False)
            .select_related("individual", "organization")
        )
        earlier = {s.signatory.name for s in listed if (s.text_version or 1) < letter.material_version}
        entries = Roster(letter).entries()
        assert {entry.name for entry in entries if entry.marked} == earlier
        for entry in entries:
            assert entry.marked == (entry.earlier_version is not None)
        # The same, told by moments rather than numbers: a name is unmarked exactly when its
        # signer saw the text (signed or agreed) after the last change of meaning.
        last_change = letter.text_versions.filter(material=True, number__gt=1).order_by("-number").first()
        if last_change is not None:
            for signature in listed:
                agreed = [signature.submitted_at]
                if signature.source != Signature.Source.FORM:
                    # Entered under the text as it stood; approved again after a rejection, the
                    # entry is still what the person signed then (approved_at moves, the text not).
                    agreed.append(self.entered[signature.pk])
                if signature.earlier_text_versions:
                    agreed.append(dt.datetime.fromisoformat(signature.earlier_text_versions[-1][1]))
                saw_it = max(agreed) >= last_change.created_at
                assert (signature.signatory.name in earlier) != saw_it, signature

    def a_suspended_entry_is_on_no_days_list(self) -> None:
        if not hasattr(self, "letter"):
            return
        suspended = Signature.objects.filter(letter=self.letter, suspended_at__isnull=False)
        for day in [*DAYS, self.letter.today()]:
            listed = Signature.objects.on_roster(self.letter, as_of=day)
            assert not listed.filter(pk__in=suspended.values("pk")).exists(), day
            # Nor its name, unless someone listed shares it.
            shown = {
                s.signatory.name
                for s in listed.filter(unnamed=False).select_related("individual", "organization")
            }
            printed = b"".join(csv_chunks(Roster(self.letter, day))).decode()
            for signature in suspended.select_related("individual", "organization"):
                if signature.signatory.name not in shown:
                    assert signature.signatory.name not in printed, (day, signature.signatory.name)

    @invariant()
    def recorded_deliveries_never_change(self) -> None:
        for pk, (entries, ids, sha) in getattr(self, "deliveries", {}).items():
            delivery = Delivery.objects.get(pk=pk)
            assert (delivery.entries, delivery.signature_ids, delivery.pdf_sha256) == (entries, ids, sha)
            assert Signature.objects.filter(pk__in=ids).count() == len(set(ids))


def _quick_pdf(roster, paper, fingerprint) -> bytes:
    # The delivered PDF's content does not matter here; rendering it would take a second a step.
    return hashlib.sha256(repr([entry.as_row() for entry in roster.entries()]).encode()).digest()


def test_no_interleaving_corrupts_the_list():
    with mock.patch("letters.outputs.deliveries.pdf_of_state", _quick_pdf):
        run_state_machine_as_test(
            Lifecycle,
            settings=settings(
                max_examples=30,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            ),
        )

"""
Deliveries: the roster of a day frozen as it was handed over (entries, PDF and
its SHA-256), and what changed on the list since.
"""

import contextlib
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import cached_property

from django.db import transaction
from django.db.models import Max, Q

from letters.models import Delivery, Letter, LetterVersion, Signature, merged_targets
from letters.outputs.pdf import pdf_of_state
from letters.outputs.printing import DEFAULT_PAPER
from letters.rosters import Roster, RosterEntry, Section


def _signature_ids(roster: Roster) -> list[int]:
    """The signature behind each entry of `roster.entries()`: the same querysets, in the same order."""
    ids: list[int] = []
    for section_type in roster.section_types:
        signatures = roster.signatures()
        ordered = (
            signatures.individuals() if section_type == Roster.INDIVIDUALS else signatures.organizations()
        )
        ids.extend(ordered.values_list("pk", flat=True))
    return ids


def read_roster_with_ids(
    letter: Letter, as_of: dt.date, *, in_transaction: bool = True
) -> tuple[Roster, list[int], str]:
    """
    A roster read into memory, the signature id of each of its entries and its
    fingerprint, read in one transaction. Should a signature still change
    between the reads (PostgreSQL gives each statement its own snapshot), the
    lengths disagree and we read again. Public pages read without the
    transaction: on SQLite every transaction takes the one write lock, which
    signers need.
    """
    for _ in range(3):
        roster = Roster(letter, as_of)
        with transaction.atomic() if in_transaction else contextlib.nullcontext():
            state = roster.state_now()
            entries = roster.entries()
            roster.unnamed_counts  # noqa: B018 - the unnamed count, read with the names
            ids = _signature_ids(roster)
        if len(ids) == len(entries):
            return roster, ids, state
    raise RuntimeError("The list kept changing while it was read; try again.")


def delivery_record(*, letter: Letter, as_of: dt.date, recipient: str, note: str = "", user=None) -> Delivery:
    """
    Freezes the roster of `letter` as of `as_of`: the entries exactly as
    printed, the PDF (A4) and its SHA-256, numbered after the letter's earlier
    deliveries. The delivery is never changed afterwards.
    """
    delivery = Delivery(letter=letter, as_of=as_of, recipient=recipient, note=note, recorded_by=user)
    # The day and the recipient are checked before the work of freezing and rendering.
    delivery.full_clean(exclude=["number", "entries", "signature_ids", "pdf"])
    roster, ids, state = read_roster_with_ids(letter, as_of)
    delivery.entries = [entry.as_dict() for entry in roster.entries()]
    delivery.signature_ids = ids
    delivery.unnamed = dict(roster.unnamed_counts)  # from the same read as the entries
    # The PDF visitors download for this very state when it is cached (so a
    # long list rendered by a worker need not be rendered again in the admin's
    # request), else rendered now, outside the write transaction: on SQLite
    # that holds the one write lock, and signers should not wait for a PDF.
    delivery.pdf = pdf_of_state(roster, DEFAULT_PAPER, state)
    delivery.pdf_sha256 = hashlib.sha256(delivery.pdf).hexdigest()
    # The words handed over: their version (version 1 taken now if the text never changed).
    version = LetterVersion.current(letter)
    delivery.text_version, delivery.text_sha256 = version.number, version.sha256
    with transaction.atomic():
        # Serializes numbering on PostgreSQL; SQLite's IMMEDIATE transactions already do.
        Letter.objects.select_for_update().filter(pk=letter.pk).first()
        latest = Delivery.objects.filter(letter=letter).aggregate(n=Max("number"))["n"] or 0
        delivery.number = latest + 1
        delivery.full_clean()
        delivery.save()
    return delivery


class FrozenRoster(Roster):
    """
    A delivery's frozen entries behind the Roster interface, so pages show them
    like any roster — less the names erased since at their signers' request
    (docs/design.md, "The signer's page"), which `erased_count` counts.
    """

    def __init__(self, delivery: Delivery) -> None:
        super().__init__(delivery.letter, delivery.as_of)
        self.delivery = delivery

    @cached_property
    def _erased_ids(self) -> set[int]:
        ids = self.delivery.signature_ids
        return set(Signature.objects.filter(pk__in=ids, erased_at__isnull=False).values_list("pk", flat=True))

    @cached_property
    def entries_by_signature(self) -> dict[int, RosterEntry]:
        """The entries that may still be shown, by the signature behind each."""
        pairs = zip(self.delivery.signature_ids, self.delivery.entries, strict=True)
        return {pk: RosterEntry.from_dict(data) for pk, data in pairs if pk not in self._erased_ids}

    @cached_property
    def frozen_entries(self) -> list[RosterEntry]:
        return list(self.entries_by_signature.values())

    @property
    def erased_count(self) -> int:
        return len(self._erased_ids)

    @cached_property
    def suspended_count(self) -> int:
        """
        Delivered entries staff have taken off the list since (suspended while a
        dispute is looked into, or rejected): the frozen list keeps them, the
        page says how many. Erasures are `erased_count`.
        """
        ids = self.delivery.signature_ids
        taken_off = Q(suspended_at__isnull=False) | Q(status=Signature.Status.REJECTED)
        return Signature.objects.filter(taken_off, pk__in=ids, erased_at__isnull=True).count()

    @property
    def section_types(self) -> list[str]:
        # As delivered: the frozen entries' order, whatever the letter's settings say now
        # (then any section the letter has that the delivery had no entry in).
        delivered = list(dict.fromkeys(entry["type"] for entry in self.delivery.entries))
        return delivered + [t for t in super().section_types if t not in delivered]

    @cached_property
    def sections(self) -> list[Section]:
        return [
            Section(
                type=section_type,
                heading=self.SECTION_HEADINGS.get(section_type, section_type),
                entries=[entry for entry in self.frozen_entries if entry.type == section_type],
            )
            for section_type in self.section_types
        ]

    def iter_entries(self, chunk_size: int = 2000):
        return iter(self.entries())


@dataclass
class SinceDelivery:
    delivery: Delivery
    delivered: FrozenRoster
    roster: Roster
    # Entries printed now and not in the delivery: new signatures, and names printed otherwise since.
    added: list[RosterEntry] = field(default_factory=list)
    withdrawn: list[RosterEntry] = field(default_factory=list)
    # Delivered entries no longer printed so: removed by staff, and names printed otherwise since.
    removed: list[RosterEntry] = field(default_factory=list)
    # (as delivered, as listed now) for a signatory printed under the same name with another
    # title or acronym. Never a pair of two names: that would tie a signer's new name
    # (a pseudonym they chose since) to the one they were delivered under.
    changed: list[tuple[RosterEntry, RosterEntry]] = field(default_factory=list)

    @property
    def added_individuals(self) -> list[RosterEntry]:
        return [entry for entry in self.added if not entry.is_organization]

    @property
    def added_organizations(self) -> list[RosterEntry]:
        return [entry for entry in self.added if entry.is_organization]


def since_delivery(delivery: Delivery, as_of: dt.date | None = None) -> SinceDelivery:
    """
    Who joined and who left the list between the delivery's day and `as_of`
    (today when None), comparing signatures rather than spellings.
    """
    delivered = FrozenRoster(delivery)
    roster, ids, _ = read_roster_with_ids(
        delivery.letter, as_of or delivery.letter.today(), in_transaction=False
    )
    now_by_id = dict(zip(ids, roster.entries(), strict=True))
    # A delivered signature retired by a merge is the same person as the one that stands for it now.
    stands_for = merged_targets(list(delivered.entries_by_signature))
    then_by_id: dict[int, RosterEntry] = {}
    for pk, entry in delivered.entries_by_signature.items():
        target = stands_for.get(pk, pk)
        # Two delivered spellings merged since: the one printed now is the same entry.
        if target not in then_by_id or (target in now_by_id and entry.name == now_by_id[target].name):
            then_by_id[target] = entry

    result = SinceDelivery(delivery=delivery, delivered=delivered, roster=roster)
    # A name printed otherwise is a removal and an addition, each in its own list's order: the
    # public page never says which new name stands for which delivered one.
    # (A person's: an organization's names are its own and public, and a renamed one is "changed".)
    renamed = {
        pk
        for pk, entry in now_by_id.items()
        if pk in then_by_id and not entry.is_organization and then_by_id[pk].name != entry.name
    }
    result.added = [entry for pk, entry in now_by_id.items() if pk not in then_by_id or pk in renamed]
    gone = [pk for pk in then_by_id if pk not in now_by_id]
    withdrawn_ids = set(
        Signature.objects.filter(
            pk__in=gone, withdrawn_at__lt=delivery.letter.end_of_day(roster.as_of)
        ).values_list("pk", flat=True)
    )
    for pk, entry in then_by_id.items():
        if pk in withdrawn_ids:
            result.withdrawn.append(entry)
        elif pk in renamed or pk not in now_by_id:
            result.removed.append(entry)
    result.changed = [
        (then_by_id[pk], entry)
        for pk, entry in now_by_id.items()
        if pk in then_by_id and pk not in renamed and _printed(then_by_id[pk]) != _printed(entry)
    ]
    return result


def _printed(entry: RosterEntry) -> tuple[str, str, str]:
    return (entry.name, entry.title, entry.acronym)

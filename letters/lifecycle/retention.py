"""
How long signers' private data is kept (docs/design.md, "Retention"): until
settings.RETENTION_DAYS after a letter closes. Then `personal_data_purge`
deletes the e-mails, IP hashes, signers' names, notes, withdrawal reasons and
contact consents of its signatures, the addresses and messages of readers'
disputes, and what the admin history quotes of them;
what is printed (names, titles, organizations, dates), the rosters of every day
and the deliveries stay as they were. The name, title and country of a person
no list ever printed (never confirmed or approved, rejected) go too.

When a letter closed: at `closes_at`; a letter that staff closed (status
"closed") before its `closes_at`, or without one, closed when it was last saved
(`updated_at`). Drafts, and open letters without `closes_at`, never expire.
Run `manage.py purge_personal_data` daily (README, "Deploying").
"""

import dataclasses
import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from letters.lifecycle.signer import never_printed_forget
from letters.models import Correction, Dispute, Letter, Signature
from letters.privacy import (
    INDIVIDUAL_PRIVATE_FIELDS,
    ORGANIZATION_PRIVATE_FIELDS,
    SIGNATURE_PRIVATE_FIELDS,
    disputes_scrub,
    history_purge,
)
from signatories.models import Individual, Organization


def letter_closed_at(letter: Letter) -> dt.datetime | None:
    """When `letter` stopped taking signatures, or None while it may still take them."""
    if letter.status == Letter.Status.CLOSED:
        # Letters closed before closed_at was recorded count from their last save.
        closed = letter.closed_at or letter.updated_at
        if letter.closes_at is not None and letter.closes_at <= closed:
            return letter.closes_at
        return closed
    if letter.status == Letter.Status.OPEN and letter.closes_at is not None:
        return letter.closes_at
    return None


def letter_has_closed(letter: Letter, now: dt.datetime) -> bool:
    """
    Whether `letter` no longer takes signatures for good at `now`: closed by
    staff, or past its closing moment (`letter_closed_at`), what the letter's
    own page says. The index and the dashboard list it as closed.
    """
    closed = letter_closed_at(letter)
    return closed is not None and closed <= now


def letter_purge_date(letter: Letter) -> dt.datetime | None:
    """When the private data of `letter`'s signatures is (or was) deleted; None if not yet scheduled."""
    closed = letter_closed_at(letter)
    if closed is None:
        return None
    return closed + dt.timedelta(days=settings.RETENTION_DAYS)


@dataclasses.dataclass(frozen=True)
class PurgeOutcome:
    letters: list[Letter]
    signatures: int
    individuals: int
    organizations: int
    # People whose name no list ever printed, whose record was emptied (lifecycle.never_printed_forget).
    forgotten: int = 0
    # Disputes whose reader's address and message were deleted.
    disputes: int = 0


def personal_data_purge(*, now: dt.datetime | None = None, dry_run: bool = False) -> PurgeOutcome:
    """
    Delete the private data of signatures on letters past their retention
    (`letter_purge_date`), and the e-mail of individuals (the contact of
    organizations) who have no signature on a letter still within it. Running
    it again changes nothing; `dry_run` counts without writing.
    """
    now = now or timezone.now()
    expired = [
        letter
        for letter in Letter.objects.with_status(Letter.Status.OPEN, Letter.Status.CLOSED).order_by("pk")
        if (purge := letter_purge_date(letter)) is not None and purge <= now
    ]
    expired_ids = [letter.pk for letter in expired]
    kept = Signature.objects.exclude(letter_id__in=expired_ids)
    holding = Q()
    for field, empty in SIGNATURE_PRIVATE_FIELDS.items():
        holding |= ~Q(**{field: empty})
    signatures = Signature.objects.filter(holding, letter_id__in=expired_ids)
    individuals = (
        Individual.objects.filter(signatures__letter_id__in=expired_ids)
        .exclude(pk__in=kept.filter(individual__isnull=False).values("individual_id"))
        .filter(~Q(email="") | ~Q(canonical_email="") | ~Q(notes=""))
        .distinct()
    )
    organizations = (
        Organization.objects.filter(signatures__letter_id__in=expired_ids)
        .exclude(pk__in=kept.filter(organization__isnull=False).values("organization_id"))
        .filter(~Q(contact_name="") | ~Q(contact_email=""))
        .distinct()
    )
    if dry_run:
        forgotten = never_printed_forget(letter_ids=expired_ids, dry_run=True)
        return PurgeOutcome(
            expired, signatures.count(), individuals.count(), organizations.count(), forgotten
        )
    with transaction.atomic():
        history_purge(signatures)
        # QuerySet.update: no save() signal rewrites a printed name, and
        # Signature's update keeps updated_at and the letters' roster_version right.
        purged_signatures = signatures.update(**SIGNATURE_PRIVATE_FIELDS)
        purged_individuals = Individual.objects.filter(pk__in=list(individuals.values_list("pk", flat=True)))
        purged_organizations = Organization.objects.filter(
            pk__in=list(organizations.values_list("pk", flat=True))
        )
        n_individuals = purged_individuals.update(**INDIVIDUAL_PRIVATE_FIELDS, updated_at=now)
        n_organizations = purged_organizations.update(**ORGANIZATION_PRIVATE_FIELDS, updated_at=now)
        n_disputes = disputes_scrub(Dispute.objects.filter(letter_id__in=expired_ids))
        # Entries proposed that never printed (anyone may type a signer's address into the form).
        Correction.objects.filter(signature__letter_id__in=expired_ids).exclude(
            status=Correction.Status.APPLIED
        ).delete()
    forgotten = never_printed_forget(letter_ids=expired_ids)
    return PurgeOutcome(expired, purged_signatures, n_individuals, n_organizations, forgotten, n_disputes)

"""
How long signers' private data is kept (PRODUCT.md, "Retention"): until
settings.RETENTION_DAYS after a letter closes. Then `personal_data_purge`
deletes the e-mails, IP hashes, signers' names, notes, withdrawal reasons and
contact consents of its signatures, and what the admin history quotes of them;
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
import itertools
from collections.abc import Iterable

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from signatories.models import Individual, Organization

from .models import Correction, Letter, Signature

# What a purge empties on each signature: private, never printed.
SIGNATURE_PRIVATE_FIELDS = {
    "contact_email": "",
    "contact_mailbox": "",
    "ip_hash": "",
    "signer_name": "",
    "notes": "",
    "contact_consent": False,
    "withdrawal_reason": "",
    # Staff's words about the signer ("looked fake"): theirs to keep no longer than the rest.
    "rejection_reason": "",
}
INDIVIDUAL_PRIVATE_FIELDS = {"email": "", "canonical_email": "", "notes": ""}
ORGANIZATION_PRIVATE_FIELDS = {"contact_name": "", "contact_email": ""}

# What the admin history shows in place of a private value it quoted.
ERASED = "[erased]"
# How many signatures a purge reads, with their admin history, at a time.
BATCH = 500


def private_values(signature: Signature) -> set[str]:
    """The texts of its signer `signature` holds that a purge or an erasure deletes."""
    values = (getattr(signature, field) for field in SIGNATURE_PRIVATE_FIELDS)
    return {value for value in values if isinstance(value, str)}


def history_scrub(entry: LogEntry, words: Iterable[str]) -> None:
    """
    An entry of the admin history without the private values `words` it quotes
    (a withdrawal reason, an address, a name): each becomes ERASED. What staff
    did, and when, stays. The caller saves the entry.
    """
    for word in sorted((word for word in words if word and len(word) >= 3), key=len, reverse=True):
        entry.change_message = entry.change_message.replace(word, ERASED)
        entry.object_repr = entry.object_repr.replace(word, ERASED)


def _history_purge(signatures: QuerySet) -> None:
    """The admin history of `signatures` without the private values it quotes of them."""
    signature_type = ContentType.objects.get_for_model(Signature)
    fields = ["pk", *SIGNATURE_PRIVATE_FIELDS, "individual__name", "organization__name"]
    rows = (
        signatures.select_related("individual", "organization")
        .order_by("pk")
        .only(*fields)
        .iterator(chunk_size=BATCH)
    )
    while batch := {signature.pk: signature for signature in itertools.islice(rows, BATCH)}:
        ids = [str(pk) for pk in batch]
        for entry in LogEntry.objects.filter(content_type=signature_type, object_id__in=ids):
            signature = batch[int(entry.object_id)]
            before = (entry.change_message, entry.object_repr)
            # An individual's own name, which they signed with, stays printed.
            history_scrub(entry, private_values(signature) - {signature.signatory.name})
            if (entry.change_message, entry.object_repr) != before:
                entry.save(update_fields=["change_message", "object_repr"])


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
        for letter in Letter.objects.exclude(status=Letter.Status.DRAFT).order_by("pk")
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
    from .lifecycle import never_printed_forget  # the lifecycle module imports this one

    if dry_run:
        forgotten = never_printed_forget(letter_ids=expired_ids, dry_run=True)
        return PurgeOutcome(
            expired, signatures.count(), individuals.count(), organizations.count(), forgotten
        )
    with transaction.atomic():
        _history_purge(signatures)
        # QuerySet.update: no save() signal rewrites a printed name, and
        # Signature's update keeps updated_at and the letters' roster_version right.
        purged_signatures = signatures.update(**SIGNATURE_PRIVATE_FIELDS)
        purged_individuals = Individual.objects.filter(pk__in=list(individuals.values_list("pk", flat=True)))
        purged_organizations = Organization.objects.filter(
            pk__in=list(organizations.values_list("pk", flat=True))
        )
        n_individuals = purged_individuals.update(**INDIVIDUAL_PRIVATE_FIELDS, updated_at=now)
        n_organizations = purged_organizations.update(**ORGANIZATION_PRIVATE_FIELDS, updated_at=now)
        # Entries proposed that never printed (anyone may type a signer's address into the form).
        Correction.objects.filter(signature__letter_id__in=expired_ids).exclude(
            status=Correction.Status.APPLIED
        ).delete()
    forgotten = never_printed_forget(letter_ids=expired_ids)
    return PurgeOutcome(expired, purged_signatures, n_individuals, n_organizations, forgotten)

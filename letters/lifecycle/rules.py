"""The states a signature is in, and the checks and helpers every transition shares."""

import unicodedata
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import Q, QuerySet

from letters.models import Signature
from signatories import identity
from signatories.models import Individual, Organization
from signatories.normalize import clean_text

# A signature's related rows, which its writers already hold: validating them
# would cost a query each on the busiest path.
RELATED = ["letter", "individual", "organization", "approved_by", "merged_into"]

# The printed fields a correction carries, by kind of signatory.
PRINTED_FIELDS = {
    "individual": ("name", "title", "country"),
    "organization": ("name", "acronym", "website", "country"),
}


# What staff may still edit on a signature's page; everything else changes only through a transition.
# Not `public_consent`: every listed name has it (`entry_errors`); a withdrawal or erasure takes one off.
STAFF_EDITABLE_FIELDS = ["contact_consent", "signer_name", "contact_email", "notes"]


def staff_editable_fields(signature: Signature) -> list[str]:
    """
    The fields staff may edit on `signature`'s page: none once it is erased,
    whose private data nothing brings back (not a page opened before the erasure).
    """
    return [] if signature.erased_at is not None else STAFF_EDITABLE_FIELDS


class TransitionError(Exception):
    """A change the lifecycle does not allow; the message is for whoever asked."""


class SigningClosed(TransitionError):
    """The letter does not accept signatures (draft, closed, not yet open, or not of this kind)."""


@dataclass(frozen=True)
class Outcome:
    changed: int
    # Selected signatures the action does not apply to (already approved, withdrawn…).
    skipped: int
    # Why some were skipped, when it is worth telling staff.
    notes: tuple[str, ...] = ()


def clean_reason(reason: str) -> str:
    """One line of at most 500 characters, without control characters."""
    reason = "".join(char for char in clean_text(reason) if unicodedata.category(char) != "Cc")
    return reason[:500]


def needs_approval(signature: Signature) -> bool:
    """
    Organization signatures always wait for staff; individual ones when the
    letter says so. An unnamed signature always does: no reader can check a name
    they never see, so a person must.
    """
    return signature.is_organization or signature.unnamed or signature.letter.requires_approval


def correction_needs_approval(signature: Signature) -> bool:
    """
    A new printed entry waits for staff where the signature does, and where the
    signatory is listed on another letter that requires approval: the record is
    one, and a correction reprints it on every letter it signed.
    """
    if needs_approval(signature):
        return True
    return Signature.objects.filter(
        individual_id=signature.individual_id,
        status=Signature.Status.APPROVED,
        erased_at__isnull=True,
        letter__requires_approval=True,
    ).exists()


def namesake_listed(signature: Signature) -> bool:
    """
    Someone of the same name who may be this very person is on the letter's
    list: a record without an e-mail (an imported row), which
    `signatories.identity` cannot tell apart. The signature then waits for staff
    even where the letter needs no approval, so that nobody is listed twice
    without a person deciding it. Two signers with their own addresses are two
    people, whatever their names. A name that only looks the same ("Grace
    Impоrted" with a Cyrillic "о") is a namesake too: the names are compared by
    their TR39 skeletons (`Individual.name_skeleton`) as well as their keys.
    """
    if signature.individual_id is None:
        return False
    person = signature.individual
    namesakes = identity.namesakes_of(person)  # look-alikes too
    if person.canonical_email:
        namesakes = namesakes.filter(canonical_email="")
    return Signature.objects.filter(
        letter_id=signature.letter_id,
        status=Signature.Status.APPROVED,
        erased_at__isnull=True,
        individual__in=namesakes,
    ).exists()


def approvable() -> Q:
    """
    Signatures staff may approve: confirmed by e-mail and awaiting approval, or
    rejected after confirmation (staff changing their mind), and neither
    withdrawn nor erased, nor by a person whose name was deleted (`forgotten`).
    An unconfirmed web signature is never approved: nobody has shown that the
    address is the signer's.
    """
    confirmed_before = Q(confirmed_at__isnull=False) | ~Q(source=Signature.Source.FORM)
    return Q(withdrawn_at__isnull=True, erased_at__isnull=True, individual__forgotten_at__isnull=True) & (
        Q(status=Signature.Status.CONFIRMED) | (Q(status=Signature.Status.REJECTED) & confirmed_before)
    )


def forgotten(signatory: Individual | Organization) -> bool:
    """
    A person whose name an erasure or the retention purge deleted: their
    record says "Erased signatory #12", which no list may print.
    """
    return isinstance(signatory, Individual) and signatory.forgotten_at is not None


def locked(signatures: QuerySet, condition: Q) -> list[Signature]:
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the joins.
    return list(
        Signature.objects.filter(pk__in=signatures.values("pk"))
        .filter(condition)
        .select_for_update(of=("self",))
        .select_related("letter", "individual", "organization")
        .order_by("pk")
    )


def lock_one(signature: Signature) -> Signature:
    return (
        Signature.objects.select_for_update(of=("self",))
        .select_related("letter", "individual", "organization")
        .get(pk=signature.pk)
    )


def log_action(user, objects: list, message: str, flag: int = CHANGE) -> None:
    if objects and user is not None and user.pk is not None:
        LogEntry.objects.log_actions(user.pk, objects, flag, message)


def save_fields(signature: Signature, fields: list[str]) -> None:
    signature.full_clean(exclude=RELATED, validate_unique=False, validate_constraints=False)
    signature.save(update_fields=[*fields, "updated_at"])

"""
Who vouches for a name (docs/design.md): staff recording who authorized an
organization's signature (`signature_verify`), and staff on a disputed entry:
suspend it while they check, then reinstate it (the signature stands) or
reject it (signatures_reject). A suspended entry is
off the list of every day, earlier days too (`SignatureQuerySet.on_roster`),
as an erased one is, but nothing is deleted: reinstating puts it back where it was.
Deliveries keep what they froze; their public page counts it as removed since.
"""

from django.db import transaction
from django.utils import timezone

from letters.lifecycle.rules import TransitionError, clean_reason, lock_one, log_action, save_fields
from letters.models import Dispute, Letter, Signature

SUSPENSION_FIELDS = ["suspended_at", "suspended_by", "suspension_reason"]


def signature_suspend(*, signature: Signature, user, reason: str) -> Signature:
    """
    Take the entry off every day's list until `signature_reinstate`. Its open
    disputes say so. Suspending again keeps the first moment and reason; an
    erased signature is off every list already.
    """
    reason = clean_reason(reason)
    if not reason:
        raise TransitionError("Give a reason for the suspension (for example: “disputed by its owner”).")
    with transaction.atomic():
        signature = lock_one(signature)
        if signature.suspended_at is not None or signature.erased_at is not None:
            return signature
        signature.suspended_at = timezone.now()
        signature.suspended_by = user
        signature.suspension_reason = reason
        save_fields(signature, SUSPENSION_FIELDS)
        _disputes_decided(signature, Dispute.Status.OPEN, Dispute.Status.SUSPENDED, user)
        log_action(user, [signature], f"Suspended: {reason}")
    return signature


def signature_reinstate(*, signature: Signature, user) -> Signature:
    """Put a suspended entry back on the lists of the days it was on; its disputes close as reinstated."""
    with transaction.atomic():
        signature = lock_one(signature)
        if signature.suspended_at is None:
            return signature
        signature.suspended_at, signature.suspended_by, signature.suspension_reason = None, None, ""
        save_fields(signature, SUSPENSION_FIELDS)
        for status in (Dispute.Status.OPEN, Dispute.Status.SUSPENDED):
            _disputes_decided(signature, status, Dispute.Status.REINSTATED, user)
        log_action(user, [signature], "Reinstated.")
    return signature


def _disputes_decided(signature: Signature, before: str, after: str, user) -> None:
    signature.disputes.filter(status=before).update(status=after, decided_at=timezone.now(), decided_by=user)


def dispute_open(*, letter: Letter, signature: Signature, contact_email: str, message: str) -> Dispute:
    """
    Store a reader's dispute of a listed entry; it waits for staff, who are
    told by e-mail (letters.signing.tasks.send_dispute_notice).
    """
    if signature.letter_id != letter.pk:
        raise TransitionError("That entry is not on this letter.")
    dispute = Dispute(letter=letter, signature=signature, contact_email=contact_email, message=message)
    dispute.full_clean(exclude=["letter", "signature", "decided_by"])
    dispute.save()
    return dispute


def signature_verify(*, signature: Signature, user, name: str, role: str, how: str) -> Signature:
    """
    Staff record who authorized an organization's signature (their name, role,
    and how staff know: "telephone call to the director"): the signature is
    verified by staff, and listed where the letter requires verified organizations.
    """
    name, role, how = clean_reason(name)[:200], clean_reason(role)[:200], clean_reason(how)
    if not signature.organization_id:
        raise TransitionError("Only an organization’s signature is verified: a person signs for themselves.")
    if not (name and role and how):
        raise TransitionError("Give who authorized the signature, their role and how you know.")
    with transaction.atomic():
        signature = lock_one(signature)
        signature.verification = Signature.Verification.STAFF
        signature.authorized_by_name, signature.authorized_by_role, signature.authorized_how = name, role, how
        signature.verified_at, signature.verified_by = timezone.now(), user
        save_fields(signature, [*VERIFICATION_FIELDS, "verified_by"])
        log_action(user, [signature], f"Recorded who authorized it: {name}, {role} ({how}).")
    return signature


def signature_verified_by_invitation(*, signature: Signature) -> Signature:
    """
    An organization's signature made through an invitation to the contact
    address staff chose for it (letters.signing.invitations) is vouched for by
    that: `Signature.Verification.INVITATION`. A person signs for themselves,
    and a signature verified already keeps how it was.
    """
    if not signature.organization_id or signature.verification:
        return signature
    with transaction.atomic():
        signature = lock_one(signature)
        if signature.verification:
            return signature
        signature.verification = Signature.Verification.INVITATION
        signature.verified_at = timezone.now()
        save_fields(signature, ["verification", "verified_at"])
    return signature


VERIFICATION_FIELDS = [
    "verification",
    "authorized_by_name",
    "authorized_by_role",
    "authorized_how",
    "verified_at",
]

"""
Staff on a disputed entry: suspend it while they check, then reinstate it
(the signature stands) or reject it (signatures_reject). A suspended entry is
off the list of every day, earlier days too (`SignatureQuerySet.on_roster`),
as an erased one is, but nothing is deleted: reinstating puts it back where it was.
Deliveries keep what they froze; their public page counts it as removed since.
"""

from django.db import transaction
from django.utils import timezone

from letters.lifecycle.rules import TransitionError, clean_reason, lock_one, log_action, save_fields
from letters.models import Dispute, Signature

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

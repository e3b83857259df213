"""Staff on a selection of signatures: approve, reject, withdraw, erase."""

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from letters.lifecycle.corrections import correction_apply, corrections_end
from letters.lifecycle.entry import listed_signature
from letters.lifecycle.rules import (
    Outcome,
    TransitionError,
    approvable,
    clean_reason,
    locked,
    log_action,
    save_fields,
)
from letters.lifecycle.signer import signature_erase
from letters.models import Correction, Signature


def signatures_approve(*, signatures: QuerySet, user) -> Outcome:
    """
    Approve the approvable signatures among `signatures`: `approved_at` now and
    `approved_by` the staff member, with the corrections confirmed together
    with them. `signed_at` is left as it is (the moment of e-mail confirmation
    for a web signature), so approving late never moves a name to a later
    day's list. An organization already listed is not listed twice: its other
    claims stay as they are, for staff to reject; nor is anyone listed on a
    day they already are (`listed_signature`: a signature staff entered by
    hand, another period, the one a merge kept).
    """
    now = timezone.now()
    total = signatures.count()
    notes = []
    with transaction.atomic():
        approved = []
        for row in locked(signatures, approvable()):
            signed_at = row.signed_at or row.confirmed_at or now
            if listed := listed_signature(row.letter, row.signatory, since=signed_at, other_than=row.pk):
                notes.append(
                    f"{row.signatory} is already on the list of “{row.letter}” (signature #{listed.pk}): "
                    + (
                        "reject one of the two claims."
                        if row.organization_id
                        else "it cannot be listed twice."
                    )
                )
                continue
            row.status = Signature.Status.APPROVED
            row.approved_at, row.approved_by = now, user
            row.signed_at = signed_at
            row.rejected_at, row.rejection_reason = None, ""
            save_fields(
                row, ["status", "approved_at", "approved_by", "signed_at", "rejected_at", "rejection_reason"]
            )
            for correction in row.corrections.filter(with_signature=True, status=Correction.Status.CONFIRMED):
                correction_apply(correction, user, now)
            approved.append(row)
        log_action(user, approved, "Approved.")
    return Outcome(changed=len(approved), skipped=total - len(approved), notes=tuple(notes))


def signatures_reject(*, signatures: QuerySet, user, reason: str) -> Outcome:
    """Reject every selected signature that is not rejected or erased, with a reason staff can read later."""
    reason = clean_reason(reason)
    if not reason:
        raise TransitionError("Give a reason for the rejection.")
    now = timezone.now()
    total = signatures.count()
    with transaction.atomic():
        rows = locked(signatures, ~Q(status=Signature.Status.REJECTED) & Q(erased_at__isnull=True))
        Signature.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=Signature.Status.REJECTED, rejected_at=now, rejection_reason=reason
        )
        log_action(user, rows, f"Rejected: {reason}")
    return Outcome(changed=len(rows), skipped=total - len(rows))


def signatures_withdraw(*, signatures: QuerySet, user, reason: str = "") -> Outcome:
    """
    Mark signatures withdrawn now (a signer who asked by e-mail or telephone).
    They stay on the lists of earlier days, like a withdrawal on the signer's page.
    """
    reason = clean_reason(reason)
    total = signatures.count()
    with transaction.atomic():
        rows = locked(signatures, Q(withdrawn_at__isnull=True))
        now = timezone.now()
        Signature.objects.filter(pk__in=[row.pk for row in rows]).update(
            withdrawn_at=now, withdrawal_reason=reason
        )
        corrections_end([row.pk for row in rows], now)
        log_action(user, rows, "Marked withdrawn" + (f": {reason}" if reason else "."))
    return Outcome(changed=len(rows), skipped=total - len(rows))


def signatures_erase(*, signatures: QuerySet, user) -> Outcome:
    """Erase signatures on their signers' written request (see `signature_erase`)."""
    total = signatures.count()
    rows = list(signatures.filter(erased_at__isnull=True).order_by("pk"))
    for row in rows:
        signature_erase(signature=row, user=user)
    return Outcome(changed=len(rows), skipped=total - len(rows))

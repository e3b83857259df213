"""A signer's correction of their entry: proposed, confirmed by link, approved by staff."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from letters.lifecycle.entry import speaks_for_signer, unverified_records
from letters.lifecycle.rules import (
    PRINTED_FIELDS,
    Outcome,
    correction_needs_approval,
    forgotten,
    lock_one,
    log_action,
)
from letters.models import Correction, Signature
from signatories.models import Individual, Organization
from signatories.normalize import clean_text

# Corrections that may still print: waiting for their link, or for staff.
OPEN_CORRECTIONS = (Correction.Status.PENDING, Correction.Status.CONFIRMED)


def corrections_end(signature_ids: list[int], now: dt.datetime) -> None:
    """
    Withdrawn signatures: the changes still waiting would rewrite the name on
    the lists of the days they were signed, so they no longer apply; nor do
    those of the signer's signatures a merge folded into them or retired in
    their place (`same_signer`), whose links and staff would apply them all the same.
    """
    ended, frontier = set(signature_ids), set(signature_ids)
    while frontier:
        mailboxes = dict(Signature.objects.filter(pk__in=frontier).values_list("pk", "contact_mailbox"))
        merged = Signature.objects.filter(merged_into__in=frontier).values_list(
            "pk", "merged_into", "individual_id", "contact_mailbox"
        )
        frontier = {
            pk
            for pk, target, individual, mailbox in merged
            if pk not in ended and (individual is not None or (mailbox and mailbox == mailboxes[target]))
        }
        ended |= frontier
    Correction.objects.filter(signature_id__in=ended, status__in=OPEN_CORRECTIONS).update(
        status=Correction.Status.WITHDRAWN, decided_at=now
    )


def correction_allowed(signature: Signature) -> bool:
    """
    Whether the signer of `signature` may change what its signatory's record
    prints. What someone nobody vouched for typed acts on their own unlisted
    entry and nothing else: a claim on an organization that was never
    approved may not rewrite an organization listed by anyone (its name,
    acronym, website on every day's list); a person's web signature not
    approved may rewrite only their own record: one of unconfirmed claims, or
    the one whose address they confirmed (not one a merge tied it to).
    """
    if signature.approved_at is not None or signature.status == Signature.Status.APPROVED:
        return True
    signatory = signature.signatory
    if isinstance(signatory, Organization):
        listed = Q(status=Signature.Status.APPROVED) | Q(approved_at__isnull=False)
        return not Signature.objects.filter(listed, organization=signatory).exists()
    if signatory.pk in unverified_records(Individual, [signatory.pk]):
        return True  # the claimant's own record
    # A confirmed link proves its address, not a name: the record must be that address's (a merge of
    # namesakes may have moved a stranger's claim onto someone else's record, without the address).
    return speaks_for_signer(signature) and (
        signature.source != Signature.Source.FORM
        or (bool(signature.contact_mailbox) and signature.contact_mailbox == signatory.canonical_email)
    )


NOT_ALLOWED = (
    "This entry is listed by others and your signature was not approved yet: "
    "write to the organizers to change how it prints."
)


def correction_propose(
    *, signature: Signature, entry: dict, confirmed: bool, with_signature: bool = False
) -> Correction | None:
    """
    A new printed entry for `signature` (see PRINTED_FIELDS). `confirmed`: the
    signer proved the address already (their own page); otherwise the
    correction waits for its own e-mail link. It never touches what an earlier
    link publishes. Returns None when the entry is what prints already.
    """
    kind = "organization" if signature.is_organization else "individual"
    entry = {name: clean_text(str(entry.get(name) or "")) for name in PRINTED_FIELDS[kind]}
    if not entry["name"]:
        raise ValidationError({"name": "The name cannot be empty."})
    current = {name: str(getattr(signature.signatory, name) or "") for name in PRINTED_FIELDS[kind]}
    if entry == current:
        return None
    with transaction.atomic():
        locked = lock_one(signature)
        if locked.withdrawn_at or locked.erased_at:
            raise ValidationError("A withdrawn signature cannot be corrected: sign the letter again instead.")
        # One sent with its signature prints only when the signature does (staff approve it, or its
        # owner confirms their own address): a later one needs a signature that speaks for its signer.
        if not with_signature and not correction_allowed(locked):
            raise ValidationError(NOT_ALLOWED)
        if forgotten(locked.signatory):
            # A name typed in again would stay for good: the purge empties each record once.
            raise ValidationError("This entry's name was deleted: sign the letter again instead.")
        # Nothing waiting is replaced until the new proposal is confirmed
        # (`correction_confirmed`): anyone can type a signer's address into
        # the form, and that must not cancel what the signer proved.
        correction = Correction(signature=signature, with_signature=with_signature, **entry)
        correction.full_clean(exclude=["signature", "decided_by"])
        correction.save()
        if confirmed:
            correction_confirmed(correction, signature, timezone.now())
    return correction


def correction_confirm(*, correction: Correction) -> Correction:
    """The signer pressed the button behind the correction's own link."""
    with transaction.atomic():
        correction = (
            Correction.objects.select_for_update().select_related("signature__letter").get(pk=correction.pk)
        )
        signature = correction.signature
        if correction.status != Correction.Status.PENDING or signature.withdrawn_at or signature.erased_at:
            return correction
        correction_confirmed(correction, signature, timezone.now())
    return correction


def correction_confirmed(correction: Correction, signature: Signature, now: dt.datetime) -> None:
    """
    A correction's address is proven. One sent with its signature prints when
    the signature does; one sent later prints now, or once staff approve it
    where it needs them (`correction_needs_approval`).
    """
    correction.confirmed_at = now
    correction.status = Correction.Status.CONFIRMED
    correction.save(update_fields=["status", "confirmed_at"])
    # The newest proven proposal replaces the ones still waiting.
    signature.corrections.filter(
        status__in=OPEN_CORRECTIONS,
        with_signature=correction.with_signature,
    ).exclude(pk=correction.pk).update(status=Correction.Status.SUPERSEDED, decided_at=now)
    if correction.with_signature and signature.status != Signature.Status.APPROVED:
        prints_now = False  # with its signature, once staff approve it
    else:
        prints_now = not correction_needs_approval(signature)
    if prints_now:
        correction_apply(correction, None, now)


def correction_apply(correction: Correction, user, now: dt.datetime) -> None:
    signatory = correction.signature.signatory
    kind = "organization" if isinstance(signatory, Organization) else "individual"
    for name in PRINTED_FIELDS[kind]:
        setattr(signatory, name, getattr(correction, name))
    signatory.full_clean(validate_unique=False, validate_constraints=False)
    signatory.save()
    correction.status = Correction.Status.APPLIED
    correction.decided_at, correction.decided_by = now, user
    correction.save(update_fields=["status", "decided_at", "decided_by"])
    log_action(user, [correction.signature], f"Correction applied: now printed as “{correction.printed}”.")


def corrections_approve(*, corrections: QuerySet, user) -> Outcome:
    """Staff approve confirmed corrections: the entries print as corrected."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            corrections.filter(
                status=Correction.Status.CONFIRMED,
                signature__withdrawn_at__isnull=True,
                signature__erased_at__isnull=True,
            )
            .select_for_update(of=("self",))
            .select_related("signature__individual", "signature__organization")
        )
        # Checked again now: the organization may have been listed since the claimant proposed it.
        rows = [correction for correction in rows if correction_allowed(correction.signature)]
        for correction in rows:
            correction_apply(correction, user, now)
    return Outcome(changed=len(rows), skipped=corrections.count() - len(rows))


def corrections_reject(*, corrections: QuerySet, user) -> Outcome:
    with transaction.atomic():
        rows = list(corrections.filter(status__in=[Correction.Status.PENDING, Correction.Status.CONFIRMED]))
        Correction.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=Correction.Status.REJECTED, decided_at=timezone.now(), decided_by=user
        )
        log_action(user, [row.signature for row in rows], "Correction rejected.")
    return Outcome(changed=len(rows), skipped=corrections.count() - len(rows))

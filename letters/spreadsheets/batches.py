"""
The import's reads and writes a batch of rows at a time: the same few queries
for a batch of ten rows or of a thousand (docs/design.md, "Importing").

Who a row is follows the one identity rule, `signatories.identity`'s pairwise
`individual_relation` and `organization_relation`; only the look-up of the
candidates is batched here (the per-record look-ups there cost three queries a
row). The new signatures are entered by the rules of
`letters.lifecycle.signature_enter` — the checks of `entry_errors`, read for a
whole batch at once — and written with one bulk insert, the letter's
`roster_version` bumped once. (A batched `signatures_enter` belongs in
letters.lifecycle.entry; until it is there, this is its one caller.)
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from letters import lifecycle
from letters.models import Letter, Signature
from signatories import identity
from signatories.models import Individual, Organization

# Rows read and matched together, and signatures written together.
BATCH_SIZE = 500


def individual_matches(letter: Letter, candidates: list[Individual]) -> list[list[identity.Match]]:
    """For each candidate, the individuals that are it or near it (`identity.individual_matches_many`)."""
    vouched = Signature.objects.filter(lifecycle.vouched(), letter=letter).values("individual_id")
    return identity.individual_matches_many(candidates, on_letter=Individual.objects.filter(pk__in=vouched))


def organization_matches(candidates: list[Organization]) -> list[list[identity.Match]]:
    return identity.organization_matches_many(candidates)


def signatures_on_letter(letter: Letter, kind: str, pks: Iterable[int]) -> dict[int, Signature]:
    """{signatory: the signature by which it is on `letter` already} (`lifecycle.signature_on_letter`)."""
    signatures = Signature.objects.filter(letter=letter, **{f"{kind}__in": list(pks)})
    if kind == "organization":
        signatures = signatures.exclude(lifecycle.unlisted_claim())
    else:
        signatures = signatures.filter(lifecycle.vouched())
    latest: dict[int, Signature] = {}
    for signature in signatures.order_by("pk"):
        latest[getattr(signature, f"{kind}_id")] = signature
    return latest


def unlisted_claims(letter: Letter, pks: Iterable[int]) -> dict[int, list[Signature]]:
    """{organization: its claims on `letter` that were never listed}, which an import leaves as they are."""
    claims = defaultdict(list)
    signatures = Signature.objects.filter(
        lifecycle.unlisted_claim(), letter=letter, organization__in=list(pks)
    )
    for claim in signatures.order_by("pk"):
        claims[claim.organization_id].append(claim)
    return claims


def listed_after(letter: Letter, kind: str, pks: Iterable[int]) -> dict[int, list[Signature]]:
    """
    {signatory: its signatures on `letter` that `lifecycle.listed_signature`
    may count}, read at once; `listed_since` decides for one moment.
    """
    found = defaultdict(list)
    signatures = Signature.objects.filter(letter=letter, erased_at__isnull=True, **{f"{kind}__in": list(pks)})
    for signature in signatures.order_by("pk"):
        found[getattr(signature, f"{kind}_id")].append(signature)
    return found


def listed_since(signatures: list[Signature], kind: str, since: dt.datetime) -> Signature | None:
    """`lifecycle.listed_signature(letter, signatory, since=since)` over signatures read by `listed_after`."""
    for signature in signatures:
        approved = signature.status == Signature.Status.APPROVED
        later = signature.withdrawn_at is None or signature.withdrawn_at > since
        if kind == "organization":
            live = approved and later
        else:
            rejected = signature.status == Signature.Status.REJECTED
            live = (signature.withdrawn_at is None and not rejected) or (approved and later)
        if live:
            return signature
    return None


def entry_errors(letter: Letter, signatory, signed_at: dt.datetime, listed: list[Signature]) -> dict:
    """`lifecycle.entry_errors` for an import's row, its signatory's signatures read by `listed_after`."""
    kind = "organization" if isinstance(signatory, Organization) else "individual"
    if lifecycle.forgotten(signatory):
        return {kind: "This record's name was deleted (an erasure or retention): it cannot be listed."}
    if signed_at > timezone.now():
        return {"signed_on": "That day has not come yet."}
    if already := listed_since(listed, kind, signed_at):
        return {kind: f"Already on this letter (signature #{already.pk}); it cannot be listed twice."}
    return {}


def signatures_enter(*, letter: Letter, signatures: list[Signature], user, now: dt.datetime) -> None:
    """
    Store new approved signatures of `letter` (their signatories, new ones
    too, and `signed_at` set; checked by `entry_errors`), as
    `lifecycle.signature_enter` stores one, approved at `now` (one moment for
    a whole file: the list of what it imported filters by it). The caller's
    transaction holds them all, or none.
    """
    if not signatures:
        return
    for model in (Individual, Organization):
        new = [s.signatory for s in signatures if isinstance(s.signatory, model) and s.signatory.pk is None]
        model.objects.bulk_create(new)
        changed = [
            s.signatory
            for s in signatures
            if isinstance(s.signatory, model) and getattr(s.signatory, "_import_changed", False)
        ]
        for record in changed:
            record.refresh_derived_fields()
            record.updated_at = now
            record._import_changed = False
        if changed:
            filled = ["title", "email", "family_name"] if model is Individual else ["acronym", "website"]
            fields = [*filled, "country", "sort_name", "updated_at", *model.DERIVED_FIELDS]
            model.objects.bulk_update(changed, fields)
    for signature in signatures:
        signatory = signature.signatory
        setattr(signature, "organization" if isinstance(signatory, Organization) else "individual", signatory)
        signature.letter = letter
        signature.status = Signature.Status.APPROVED
        signature.source = Signature.Source.IMPORT
        signature.submitted_at = min(signature.signed_at, now)
        signature.approved_at = now
        signature.approved_by = user if getattr(user, "pk", None) else None
        signature.public_consent = True
    try:
        Signature.objects.bulk_create(signatures)
    except IntegrityError as error:  # a signature entered meanwhile: the constraint decides
        raise ValidationError(
            "Another signature of one of these signatories was entered meanwhile. Upload the file again."
        ) from error
    Letter.objects.filter(pk=letter.pk).roster_changed()

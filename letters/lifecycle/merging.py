"""
Merging duplicate organizations or individuals into one record.

The signatures of the duplicates go to the kept record, letter by letter as
`merge_plan` below decides: the signature that counts is kept, no
day's public list loses or doubles a name, and no signature is deleted, so
every delivery still names signatures that exist. The kept record fills its
empty fields from the others; the duplicates are deleted once they hold no
signature. Staff see the plan (`merge_preview`) before they confirm.
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from letters.lifecycle.corrections import corrections_end
from letters.lifecycle.entry import unverified_records
from letters.lifecycle.rules import forgotten, log_action
from letters.models import Letter, Signature
from letters.privacy import INDIVIDUAL_PRIVATE_FIELDS, ORGANIZATION_PRIVATE_FIELDS
from signatories.models import DismissedDuplicate, Individual, Organization

# -- Which signature stands on each letter ------------------------------------


def rank(signature: Signature) -> tuple:
    """
    Lower counts more: listed now, then listed once (approved, withdrawn later),
    then confirmed, then pending, then rejected; then the earlier.
    """
    order = {
        Signature.Status.APPROVED: 0 if signature.withdrawn_at is None else 1,
        Signature.Status.CONFIRMED: 2,
        Signature.Status.PENDING: 3,
        Signature.Status.REJECTED: 4,
    }[signature.status]
    if signature.erased_at is not None:
        order = 5
    return (order, signature.signed_at or signature.submitted_at, signature.pk)


def _listed_span(signature: Signature) -> tuple[dt.datetime, dt.datetime] | None:
    if signature.status != Signature.Status.APPROVED or signature.erased_at is not None:
        return None
    end = signature.withdrawn_at or dt.datetime.max.replace(tzinfo=dt.UTC)
    return signature.signed_at, end


@dataclass
class LetterMergePlan:
    """What a merge does to the signatures of one letter."""

    letter: Letter
    kept: Signature
    # Listed on days the kept one was not: the kept one is listed from the
    # earlier moment on, until the later withdrawal.
    folded: list[Signature]
    # Listed at other times than the kept one (withdrawn, then signed again): they stay.
    separate: list[Signature]
    # Not on any list: marked rejected as duplicates of the kept one.
    retired: list[Signature]
    signed_at: dt.datetime | None = None
    withdrawn_at: dt.datetime | None = None


def merge_plan(signatures: list[Signature]) -> list[LetterMergePlan]:
    """
    How the signatures of records being merged are combined, letter by
    letter, so that no day's list loses or doubles a name: the one that counts
    most is kept (`rank`); one listed over an overlapping span is folded into
    it; one listed over a separate span stays; the rest are retired.
    """
    by_letter: dict[int, list[Signature]] = {}
    for signature in signatures:
        by_letter.setdefault(signature.letter_id, []).append(signature)
    plans = []
    for on_letter in by_letter.values():
        kept, *others = sorted(on_letter, key=rank)
        plan = LetterMergePlan(kept.letter, kept, [], [], [], kept.signed_at, kept.withdrawn_at)
        span = _listed_span(kept)
        listed = []
        for other in sorted(others, key=lambda s: s.signed_at or s.submitted_at):
            if other.erased_at is not None:
                plan.separate.append(other)
            elif _listed_span(other) is None or span is None:
                plan.retired.append(other)
            else:
                listed.append(other)
        # Fold until nothing overlaps the kept span: a span folded in can
        # reach one that did not overlap before (1–5 Sep, 4–12 Sep, 10 Sep on).
        folding = True
        while folding:
            folding = False
            for other in list(listed):
                start, end = _listed_span(other)
                if start < span[1] and span[0] < end:
                    listed.remove(other)
                    plan.folded.append(other)
                    span = (min(span[0], start), max(span[1], end))
                    folding = True
        if plan.folded:
            plan.folded.sort(key=lambda s: s.signed_at)
            plan.signed_at = span[0]
            plan.withdrawn_at = None if span[1].year == dt.MAXYEAR else span[1]
        plan.separate += listed
        plans.append(plan)
    return plans


def signatures_merge(
    *, plans: list[LetterMergePlan], kind: str, keep: Individual | Organization, user
) -> dict:
    """
    Carry out `merge_plan` for a merge of duplicates into `keep`: the only
    path that moves signatures to another signatory. Nothing is deleted, so
    every delivery still names existing signatures; a retired or folded
    signature points at the one that stands for it (`merged_into`).
    """
    counts = {"moved": 0, "folded": 0, "retired": 0}
    now = timezone.now()
    for plan in plans:
        others = plan.folded + plan.retired
        Signature.objects.filter(pk__in=[s.pk for s in others]).update(
            status=Signature.Status.REJECTED,
            rejected_at=now,
            rejection_reason=f"Duplicate of signature #{plan.kept.pk} (merged).",
            merged_into=plan.kept,
            **{kind: keep},
        )
        Signature.objects.filter(pk__in=[s.pk for s in plan.separate]).update(**{kind: keep})
        kept = plan.kept
        changed = {kind: keep}
        if kept.status == Signature.Status.APPROVED:
            changed |= {"signed_at": plan.signed_at, "withdrawn_at": plan.withdrawn_at}
        Signature.objects.filter(pk=kept.pk).update(**changed)
        if changed.get("withdrawn_at", kept.withdrawn_at) is not None:
            # The entry that stands for the others is withdrawn: what they still had waiting ends.
            corrections_end([kept.pk], now)
        for signature in others:
            log_action(
                user, [signature], f"Duplicate of signature #{kept.pk}: retired by a merge of {kind}s."
            )
        log_action(
            user,
            [kept],
            f"Kept by a merge of {kind}s into #{keep.pk}"
            + (
                f"; listed from {plan.signed_at:%Y-%m-%d %H:%M} as the duplicates it stands for were."
                if plan.folded
                else "."
            ),
        )
        counts["moved"] += 1 + len(plan.separate) + len(others)
        counts["folded"] += len(plan.folded)
        counts["retired"] += len(plan.retired)
    return counts


# -- Merging records --------------------------------------------------------------

ORGANIZATION_FILL_FIELDS = ["acronym", "country", "website", "sort_name", "contact_name", "contact_email"]
INDIVIDUAL_FILL_FIELDS = ["title", "country", "sort_name", "email"]


class MergeError(Exception):
    """A merge that cannot be done; the message is for staff."""


@dataclass(frozen=True)
class MergeOutcome:
    kept: Organization | Individual
    merged: int  # duplicate records deleted
    moved: int  # signatures now on the kept record
    dropped: int  # duplicate signatures retired (kept in the history, off every list)


def _kind(record) -> str:
    return "organization" if isinstance(record, Organization) else "individual"


def _signatures(kind: str, pks: list[int]) -> list[Signature]:
    return list(
        Signature.objects.filter(**{f"{kind}__in": pks})
        .select_related("letter", "individual", "organization")
        .order_by("letter_id", "pk")
    )


def merge_preview(*, keep, duplicates) -> list[LetterMergePlan]:
    """What merging `duplicates` into `keep` would do, letter by letter (nothing is written)."""
    kind = _kind(keep)
    return merge_plan(_signatures(kind, [keep.pk, *(record.pk for record in duplicates)]))


def organization_merge(*, keep: Organization, duplicates: list[Organization], user) -> MergeOutcome:
    return _merge(keep=keep, duplicates=duplicates, user=user, fill_fields=ORGANIZATION_FILL_FIELDS)


def individual_merge(*, keep: Individual, duplicates: list[Individual], user) -> MergeOutcome:
    return _merge(keep=keep, duplicates=duplicates, user=user, fill_fields=INDIVIDUAL_FILL_FIELDS)


# Never written into the admin history, which the retention purge keeps: the
# signatures moved to the kept record hold the addresses they signed with.
PRIVATE_FIELDS = {*INDIVIDUAL_PRIVATE_FIELDS, *ORGANIZATION_PRIVATE_FIELDS}


def _describe_record(record, fields: list[str]) -> str:
    """What a merged-away record printed, for the admin history."""
    shown = [name for name in ["name", *fields] if name not in PRIVATE_FIELDS]
    values = [f"{name}: {getattr(record, name)}" for name in shown if getattr(record, name)]
    return f"#{record.pk} " + "; ".join(str(value) for value in values)


def _merge(*, keep, duplicates, user, fill_fields: list[str]) -> MergeOutcome:
    duplicates = [record for record in duplicates if record.pk != keep.pk]
    if not duplicates:
        raise MergeError("Choose at least two different records to merge.")
    model, kind = type(keep), _kind(keep)
    with transaction.atomic():
        ids = [record.pk for record in duplicates]
        keep = model.objects.select_for_update().get(pk=keep.pk)
        duplicates = list(model.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        if len(duplicates) != len(ids):
            raise MergeError("One of the records was merged or deleted meanwhile; look again.")
        if gone := [record for record in [keep, *duplicates] if forgotten(record)]:
            # Kept, it would print its placeholder for the others' name; merged away, it would tie the
            # signatures of someone erased (or never listed) to another person.
            raise MergeError(
                f"#{gone[0].pk}'s name was deleted (an erasure or retention): it is nobody's duplicate."
            )
        # An address a stranger typed and never confirmed is never copied into a record
        # others vouched for: the stranger's links would then reach the kept entries.
        unverified = unverified_records(model, ids) - unverified_records(model, [keep.pk])
        signatures = list(
            Signature.objects.filter(pk__in=[s.pk for s in _signatures(kind, [keep.pk, *ids])])
            .select_for_update(of=("self",))
            .select_related("letter", "individual", "organization")
            .order_by("letter_id", "pk")
        )
        counts = signatures_merge(plans=merge_plan(signatures), kind=kind, keep=keep, user=user)

        filled = []
        for record in duplicates:
            for name in fill_fields:
                if record.pk in unverified and name in PRIVATE_FIELDS:
                    continue
                if not getattr(keep, name) and getattr(record, name):
                    setattr(keep, name, getattr(record, name))
                    filled.append(name)
            if record.notes:
                keep.notes = "\n".join(filter(None, [keep.notes, f"From #{record.pk}: {record.notes}"]))
                filled.append("notes")
            LogEntry.objects.log_actions(
                user.pk,
                [record],
                DELETION,
                f"Merged into #{keep.pk} “{keep}”. Held {_describe_record(record, fill_fields)}",
            )
        # The e-mail of an individual is unique: the duplicate goes before the kept record takes it.
        model.objects.filter(pk__in=ids).delete()
        try:
            keep.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            # A record stored before today's rules (a name with an invisible control character):
            # staff correct it on its own page first; the transaction undoes everything above.
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
            )
            raise MergeError(
                f"#{keep.pk} “{keep}” cannot be kept as it is ({problems}). Correct it, then merge."
            )
        keep.save()
        LogEntry.objects.log_actions(
            user.pk,
            [keep],
            CHANGE,
            f"Merged {', '.join(f'#{pk}' for pk in ids)} into this record"
            + (f"; filled {', '.join(dict.fromkeys(filled))} from them." if filled else "."),
        )
        DismissedDuplicate.objects.filter(kind=kind).filter(
            Q(first_id__in=ids) | Q(second_id__in=ids)
        ).delete()
    return MergeOutcome(
        kept=keep, merged=len(ids), moved=counts["moved"], dropped=counts["folded"] + counts["retired"]
    )

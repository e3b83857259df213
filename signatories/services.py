"""
Merging duplicate organizations or individuals into one record.

The signatures of the duplicates move to the kept record. Where a letter
would end with two signatures of the merged signatory, one stays: the
earlier, unless only the later one counts (approved or awaiting approval, and
not withdrawn). Every deleted signature and record gets an admin log entry
with what it held, and the kept record fills its empty fields from the others.

Signatures belong to `letters`, which this app otherwise knows nothing of; the
merge imports them inside the functions.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import DismissedDuplicate, Individual, Organization

ORGANIZATION_FILL_FIELDS = ["acronym", "country", "website", "sort_name", "contact_name", "contact_email"]
INDIVIDUAL_FILL_FIELDS = ["title", "country", "sort_name", "email"]


class MergeError(Exception):
    """A merge that cannot be done; the message is for staff."""


@dataclass(frozen=True)
class MergeOutcome:
    kept: Organization | Individual
    merged: int  # duplicate records deleted
    moved: int  # signatures now on the kept record
    dropped: int  # signatures deleted because the letter had one of the kept record already


def organization_merge(*, keep: Organization, duplicates: list[Organization], user) -> MergeOutcome:
    return _merge(
        keep=keep,
        duplicates=duplicates,
        user=user,
        kind="organization",
        fill_fields=ORGANIZATION_FILL_FIELDS,
    )


def individual_merge(*, keep: Individual, duplicates: list[Individual], user) -> MergeOutcome:
    return _merge(
        keep=keep, duplicates=duplicates, user=user, kind="individual", fill_fields=INDIVIDUAL_FILL_FIELDS
    )


def _signature_rank(signature) -> tuple:
    """Lower is kept: a signature that counts before one that does not, then the earlier one."""
    from letters.models import Signature

    counts = (
        signature.status in (Signature.Status.APPROVED, Signature.Status.CONFIRMED)
        and signature.withdrawn_at is None
    )
    return (not counts, signature.signed_at or signature.submitted_at, signature.pk)


def _describe_signature(signature) -> str:
    return (
        f"Signature #{signature.pk} of “{signature.letter}” "
        f"({signature.get_status_display()}, source {signature.source}, "
        f"submitted {signature.submitted_at:%Y-%m-%d %H:%M}"
        + (f", signed {signature.signed_at:%Y-%m-%d %H:%M}" if signature.signed_at else "")
        + (f", withdrawn {signature.withdrawn_at:%Y-%m-%d}" if signature.withdrawn_at else "")
        + (f", e-mail {signature.contact_email}" if signature.contact_email else "")
        + ")"
    )


def _describe_record(record, fields: list[str]) -> str:
    values = [f"{name}: {getattr(record, name)}" for name in ["name", *fields] if getattr(record, name)]
    return f"#{record.pk} " + "; ".join(str(value) for value in values)


def _merge(*, keep, duplicates, user, kind: str, fill_fields: list[str]) -> MergeOutcome:
    from letters.models import Signature

    duplicates = [record for record in duplicates if record.pk != keep.pk]
    if not duplicates:
        raise MergeError("Choose at least two different records to merge.")
    model = type(keep)
    now = timezone.now()
    with transaction.atomic():
        ids = [record.pk for record in duplicates]
        keep = model.objects.select_for_update().get(pk=keep.pk)
        duplicates = list(model.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        if len(duplicates) != len(ids):
            raise MergeError("One of the records was merged or deleted meanwhile; look again.")

        signatures = (
            Signature.objects.filter(**{f"{kind}__in": [keep.pk, *ids]})
            .select_related("letter")
            .order_by("letter_id", "pk")
        )
        by_letter = defaultdict(list)
        for signature in signatures:
            by_letter[signature.letter_id].append(signature)
        moved, dropped = [], []
        for on_letter in by_letter.values():
            winner, *losers = sorted(on_letter, key=_signature_rank)
            dropped.extend(losers)
            if getattr(winner, f"{kind}_id") != keep.pk:
                moved.append(winner)

        for signature in dropped:
            _log(
                user,
                signature,
                DELETION,
                f"Deleted while merging {kind}s into #{keep.pk}: "
                f"the letter keeps another signature of the same {kind}. {_describe_signature(signature)}",
            )
        Signature.objects.filter(pk__in=[signature.pk for signature in dropped]).delete()
        Signature.objects.filter(pk__in=[signature.pk for signature in moved]).update(
            **{kind: keep}, updated_at=now
        )
        if moved:
            LogEntry.objects.log_actions(
                user.pk,
                moved,
                CHANGE,
                f"Moved to {kind} #{keep.pk} “{keep}” by a merge of duplicates.",
            )

        filled = []
        for record in duplicates:
            for name in fill_fields:
                if not getattr(keep, name) and getattr(record, name):
                    setattr(keep, name, getattr(record, name))
                    filled.append(name)
            if record.notes:
                keep.notes = "\n".join(filter(None, [keep.notes, f"From #{record.pk}: {record.notes}"]))
                filled.append("notes")
        for record in duplicates:
            _log(
                user,
                record,
                DELETION,
                f"Merged into #{keep.pk} “{keep}”. Held {_describe_record(record, fill_fields)}",
            )
        # The e-mail of an individual is unique: the duplicate goes before the kept record takes it.
        model.objects.filter(pk__in=ids).delete()
        keep.full_clean(validate_unique=False, validate_constraints=False)
        keep.save()
        _log(
            user,
            keep,
            CHANGE,
            f"Merged {', '.join(f'#{pk}' for pk in ids)} into this record"
            + (f"; filled {', '.join(dict.fromkeys(filled))} from them." if filled else "."),
        )
        DismissedDuplicate.objects.filter(kind=kind).filter(
            Q(first_id__in=ids) | Q(second_id__in=ids)
        ).delete()
    return MergeOutcome(kept=keep, merged=len(ids), moved=len(moved), dropped=len(dropped))


def _log(user, record, action_flag: int, message: str) -> None:
    LogEntry.objects.log_actions(user.pk, [record], action_flag, message)

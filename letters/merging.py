"""
Merging duplicate organizations or individuals into one record.

The signatures of the duplicates go to the kept record, letter by letter as
`letters.lifecycle.merge_plan` decides: the signature that counts is kept, no
day's public list loses or doubles a name, and no signature is deleted, so
every delivery still names signatures that exist. The kept record fills its
empty fields from the others; the duplicates are deleted once they hold no
signature. Staff see the plan (`merge_preview`) before they confirm.
"""

from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from signatories.models import DismissedDuplicate, Individual, Organization

from . import lifecycle
from .models import Signature
from .retention import INDIVIDUAL_PRIVATE_FIELDS, ORGANIZATION_PRIVATE_FIELDS

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


def merge_preview(*, keep, duplicates) -> list[lifecycle.LetterMergePlan]:
    """What merging `duplicates` into `keep` would do, letter by letter (nothing is written)."""
    kind = _kind(keep)
    return lifecycle.merge_plan(_signatures(kind, [keep.pk, *(record.pk for record in duplicates)]))


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
        if gone := [record for record in [keep, *duplicates] if lifecycle.forgotten(record)]:
            # Kept, it would print its placeholder for the others' name; merged away, it would tie the
            # signatures of someone erased (or never listed) to another person.
            raise MergeError(
                f"#{gone[0].pk}'s name was deleted (an erasure or retention): it is nobody's duplicate."
            )
        signatures = list(
            Signature.objects.filter(pk__in=[s.pk for s in _signatures(kind, [keep.pk, *ids])])
            .select_for_update(of=("self",))
            .select_related("letter", "individual", "organization")
            .order_by("letter_id", "pk")
        )
        counts = lifecycle.signatures_merge(
            plans=lifecycle.merge_plan(signatures), kind=kind, keep=keep, user=user
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

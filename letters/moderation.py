"""
What staff do to signatures: approve, reject, mark withdrawn, and reject many
at once (bulk invalidation). Every change leaves an admin log entry saying who
did what, so the history of a signature can be read in the admin.

The warnings of the moderation queue are annotations (`with_warnings`), so the
queue costs the same few queries whether it shows ten rows or three hundred.
"""

import datetime as dt
import unicodedata
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, Lower, Replace, StrIndex, Substr, Trim
from django.db.models.lookups import Exact, GreaterThan, In
from django.utils import timezone

from signatories.models import Organization
from signatories.normalize import DOTLESS_PROVIDERS, PLUS_TAG_PROVIDERS, clean_text

from .models import Letter, Signature

# "Several signatures from one address within an hour": this many, the row itself included.
IP_BURST_SIZE = 3
IP_BURST_WINDOW = dt.timedelta(hours=1)


# -- Warnings of the queue ----------------------------------------------------


def canonical_email_sql(field: str) -> Case:
    """
    `signatories.normalize.canonical_email` as a database expression, so the
    queue compares signers' mailboxes inside one query ("J.Doe+x@Gmail.com" is
    "jdoe@gmail.com"). tests/test_moderation.py keeps the two in step.
    """
    email = Lower(Trim(field))
    at = StrIndex(email, Value("@"))
    local = Substr(email, 1, at - 1)
    domain = Substr(email, at + 1)
    plus = StrIndex(local, Value("+"))
    untagged = Case(When(GreaterThan(plus, 0), then=Substr(local, 1, plus - 1)), default=local)
    return Case(
        When(Exact(at, 0), then=email),
        When(
            In(domain, sorted(DOTLESS_PROVIDERS)),
            then=Concat(Replace(untagged, Value("."), Value("")), Value("@gmail.com")),
        ),
        When(In(domain, sorted(PLUS_TAG_PROVIDERS)), then=Concat(untagged, Value("@"), domain)),
        default=email,
        output_field=CharField(),
    )


def with_warnings(queryset: QuerySet) -> QuerySet:
    """
    Annotate each signature with the warnings staff see in the queue:

    - `warn_email`: another signature of the same letter has the same canonical e-mail;
    - `warn_organization`: the organization has a near namesake (same name but
      for "The", same acronym, or one's name is the other's acronym) — the
      "possible duplicates" page also finds small spelling differences;
    - `warn_ip`: IP_BURST_SIZE or more signatures of the letter from one IP hash within an hour.
    """
    others = Signature.objects.filter(letter=OuterRef("letter")).exclude(pk=OuterRef("pk"))
    same_mailbox = (
        others.exclude(contact_email="")
        .alias(mailbox=canonical_email_sql("contact_email"))
        .filter(mailbox=OuterRef("mailbox"))
    )
    burst = (
        Signature.objects.filter(
            letter=OuterRef("letter"),
            ip_hash=OuterRef("ip_hash"),
            submitted_at__gt=OuterRef("submitted_at") - IP_BURST_WINDOW,
            submitted_at__lt=OuterRef("submitted_at") + IP_BURST_WINDOW,
        )
        .exclude(ip_hash="")
        .order_by()
        .values("letter")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.alias(mailbox=canonical_email_sql("contact_email")).annotate(
        warn_email=Case(
            When(contact_email="", then=Value(False)),
            default=Exists(same_mailbox),
        ),
        warn_ip=Case(
            When(ip_hash="", then=Value(0)),
            default=Coalesce(Subquery(burst, output_field=IntegerField()), 0),
            output_field=IntegerField(),
        ),
        warn_organization=Case(
            When(organization__isnull=True, then=Value(False)),
            default=Exists(_near_organizations()),
        ),
    )


def _near_organizations() -> QuerySet:
    """Organizations other than the signature's that are probably the same one (see `with_warnings`)."""
    key = OuterRef("organization__name_key")
    acronym = Lower(OuterRef("organization__acronym"))
    return (
        Organization.objects.exclude(pk=OuterRef("organization_id"))
        .alias(acronym_lower=Lower("acronym"), the_key=Concat(Value("the "), "name_key"))
        .filter(
            Q(name_key=key)
            | Q(name_key=Concat(Value("the "), key))
            | Q(the_key=key)
            | Q(acronym_lower=key)
            | Q(acronym_lower=acronym, acronym_lower__gt="")
            | Q(name_key=acronym)
        )
    )


# -- Actions ------------------------------------------------------------------


class ModerationError(Exception):
    """A moderation request that cannot be carried out; the message is for staff."""


@dataclass(frozen=True)
class Outcome:
    changed: int
    # Selected signatures the action does not apply to (already approved, withdrawn…).
    skipped: int


def clean_reason(reason: str) -> str:
    """One line of at most 500 characters, without control characters."""
    reason = "".join(char for char in clean_text(reason) if unicodedata.category(char) != "Cc")
    return reason[:500]


def approvable() -> Q:
    """
    Signatures staff may approve: confirmed by e-mail and awaiting approval, or
    rejected after confirmation (staff changing their mind), and not withdrawn.
    An unconfirmed web signature is never approved: nobody has shown that the
    address is the signer's.
    """
    confirmed_before = Q(confirmed_at__isnull=False) | ~Q(source=Signature.Source.FORM)
    return Q(withdrawn_at__isnull=True) & (
        Q(status=Signature.Status.CONFIRMED) | (Q(status=Signature.Status.REJECTED) & confirmed_before)
    )


def _locked(signatures: QuerySet, condition: Q) -> list[Signature]:
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the joins.
    return list(
        signatures.filter(condition)
        .select_for_update(of=("self",))
        .select_related("individual", "organization")
        .order_by("pk")
    )


def _log(user, signatures: list[Signature], message: str) -> None:
    if signatures:
        LogEntry.objects.log_actions(user.pk, signatures, CHANGE, message)


def signatures_approve(*, signatures: QuerySet, user) -> Outcome:
    """
    Approve the approvable signatures among `signatures`: `approved_at` now and
    `approved_by` the staff member. `signed_at` is left as it is (the moment of
    e-mail confirmation for a web signature), so approving late never moves a
    name to a later day's list; one without it (entered by staff) is signed now.
    """
    now = timezone.now()
    total = signatures.count()
    with transaction.atomic():
        rows = _locked(signatures, approvable())
        Signature.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=Signature.Status.APPROVED,
            approved_at=now,
            approved_by=user,
            signed_at=Coalesce("signed_at", "confirmed_at", Value(now)),
            rejected_at=None,
            rejection_reason="",
            updated_at=now,
        )
        _log(user, rows, "Approved.")
    return Outcome(changed=len(rows), skipped=total - len(rows))


def signatures_reject(*, signatures: QuerySet, user, reason: str) -> Outcome:
    """Reject every selected signature that is not rejected already, with a reason staff can read later."""
    reason = clean_reason(reason)
    if not reason:
        raise ModerationError("Give a reason for the rejection.")
    now = timezone.now()
    total = signatures.count()
    with transaction.atomic():
        rows = _locked(signatures, ~Q(status=Signature.Status.REJECTED))
        Signature.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=Signature.Status.REJECTED, rejected_at=now, rejection_reason=reason, updated_at=now
        )
        _log(user, rows, f"Rejected: {reason}")
    return Outcome(changed=len(rows), skipped=total - len(rows))


def signatures_withdraw(*, signatures: QuerySet, user, reason: str = "") -> Outcome:
    """
    Mark signatures withdrawn now (a signer who asked by e-mail or telephone).
    They stay on the lists of earlier days, like a withdrawal through the link.
    """
    reason = clean_reason(reason)
    now = timezone.now()
    total = signatures.count()
    with transaction.atomic():
        rows = _locked(signatures, Q(withdrawn_at__isnull=True))
        Signature.objects.filter(pk__in=[row.pk for row in rows]).update(
            withdrawn_at=now, withdrawal_reason=reason, updated_at=now
        )
        _log(user, rows, "Marked withdrawn" + (f": {reason}" if reason else "."))
    return Outcome(changed=len(rows), skipped=total - len(rows))


# -- Bulk invalidation --------------------------------------------------------


@dataclass(frozen=True)
class InvalidationCriteria:
    """Which signatures of a letter to reject at once (all given criteria must hold)."""

    letter: Letter
    ip_hash: str = ""
    email_domain: str = ""
    submitted_from: dt.datetime | None = None
    submitted_until: dt.datetime | None = None
    statuses: tuple[str, ...] = ()

    def signatures(self) -> QuerySet:
        matches = Signature.objects.filter(letter=self.letter).exclude(status=Signature.Status.REJECTED)
        if self.ip_hash:
            matches = matches.filter(ip_hash=self.ip_hash)
        if self.email_domain:
            domain = "@" + self.email_domain.strip().lstrip("@")
            matches = matches.filter(
                Q(contact_email__iendswith=domain) | Q(individual__email__iendswith=domain)
            )
        if self.submitted_from:
            matches = matches.filter(submitted_at__gte=self.submitted_from)
        if self.submitted_until:
            matches = matches.filter(submitted_at__lt=self.submitted_until)
        if self.statuses:
            matches = matches.filter(status__in=self.statuses)
        return matches

    @property
    def is_narrowed(self) -> bool:
        """False when only the letter is given: that would reject everyone."""
        return bool(
            self.ip_hash or self.email_domain or self.submitted_from or self.submitted_until or self.statuses
        )


def signatures_invalidate(
    *, criteria: InvalidationCriteria, reason: str, user, expected_count: int
) -> Outcome:
    """
    Reject every signature matching `criteria` in one transaction, provided
    they are still the `expected_count` staff saw in the preview; otherwise
    nothing changes and staff look again.
    """
    if not criteria.is_narrowed:
        raise ModerationError("Choose at least one criterion besides the letter.")
    with transaction.atomic():
        matches = criteria.signatures()
        count = matches.count()
        if count != expected_count:
            raise ModerationError(
                f"{count} signatures match now, not the {expected_count} of the preview. "
                "Check the new preview before confirming."
            )
        return signatures_reject(signatures=matches, user=user, reason=reason)

"""
The moderation queue: the warnings staff see beside each signature, and
rejecting many signatures at once (bulk invalidation). The warnings are
annotations (`with_warnings`) built from `signatories.identity`'s SQL rules, so
the queue costs the same few queries whether it shows ten rows or three
hundred. The writes are `letters.lifecycle`'s.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.db.models import (
    Case,
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
from django.db.models.functions import Coalesce

from letters.lifecycle.rules import Outcome, TransitionError
from letters.lifecycle.staff import signatures_reject
from letters.models import Correction, Letter, Signature
from signatories import identity

# "N signatures from one network within an hour": this many, the row itself
# included. One IP address is one network (an office, a campus, an event's
# Wi-Fi, a mobile carrier's NAT, 127.0.0.1 in development) rather than one
# person, so a few signatures an hour from one address are normal: colleagues
# passing a letter round sign a handful an hour. 20 is more than that, and
# below the signup rate limit (SIGNUP_RATE_LIMIT, 30 an hour per address and
# letter) where the form stops one address anyway — a script reaches it within
# minutes, and staff then see the batch together with a link to reject it.
IP_BURST_SIZE = 20
IP_BURST_WINDOW = dt.timedelta(hours=1)


# The states staff sort signatures into, as lookups on a signature: the letter
# list and the dashboard count them, the queue filters by them.
BUCKETS: dict[str, tuple[str, dict]] = {
    # Not a person whose name was deleted (retention): nobody may approve them (`approvable`).
    "awaiting": (
        "awaiting approval",
        {
            "status": Signature.Status.CONFIRMED,
            "withdrawn_at__isnull": True,
            "individual__forgotten_at__isnull": True,
        },
    ),
    "pending": ("unconfirmed e-mail", {"status": Signature.Status.PENDING}),
    "approved": ("approved", {"status": Signature.Status.APPROVED, "withdrawn_at__isnull": True}),
    "withdrawn": ("withdrawn", {"withdrawn_at__isnull": False}),
    # Not the duplicates a merge retired (`merged_into`): they stand for nobody now.
    "rejected": ("rejected", {"status": Signature.Status.REJECTED, "merged_into__isnull": True}),
}


def bucket_q(key: str, prefix: str = "") -> Q:
    """The bucket `key` as a Q on signatures, or on a relation to them (`prefix="signatures__"`)."""
    return Q(**{f"{prefix}{name}": value for name, value in BUCKETS[key][1].items()})


# -- Warnings of the queue ----------------------------------------------------


# The annotations of `with_warnings`.
WARNINGS = ["warn_email", "warn_ip", "warn_organization", "warn_namesake", "warn_listed", "warn_correction"]


def with_warnings(queryset: QuerySet) -> QuerySet:
    """
    Annotate each signature with the warnings staff see in the queue:

    - `warn_email`: another signature of the same letter has the same canonical e-mail;
    - `warn_organization`: the organization has a near namesake (same name but
      for "The", same acronym, or one's name is the other's acronym) — the
      "possible duplicates" page also finds small spelling differences;
    - `warn_namesake`: another individual of the same name (but for case,
      accents, punctuation) has signed the letter;
    - `warn_listed`: the organization is already listed on the letter by
      another signature (another claim on it);
    - `warn_correction`: a correction of the printed entry awaits approval;
    - `warn_ip`: how many signatures of the letter came from the same IP hash (one network)
      within an hour either side; the queue warns from IP_BURST_SIZE.
    """
    others = Signature.objects.filter(letter=OuterRef("letter")).exclude(pk=OuterRef("pk"))
    same_mailbox = others.filter(contact_mailbox=OuterRef("contact_mailbox"))
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
    # From the few namesakes (by the name's index) to a signature of theirs on
    # the letter, never from every signature of the letter to its signatory's
    # name: nested, so SQLite cannot choose the slow order without statistics.
    namesake_on_letter = identity.namesakes().filter(
        Exists(Signature.objects.filter(individual=OuterRef("pk"), letter=OuterRef(OuterRef("letter"))))
    )
    listed_claim = others.filter(
        organization=OuterRef("organization"),
        status=Signature.Status.APPROVED,
        withdrawn_at__isnull=True,
        erased_at__isnull=True,
    )
    correction = Correction.objects.filter(signature=OuterRef("pk"), status=Correction.Status.CONFIRMED)
    return queryset.annotate(
        warn_email=Case(
            When(contact_mailbox="", then=Value(False)),
            default=Exists(same_mailbox),
        ),
        warn_ip=Case(
            When(ip_hash="", then=Value(0)),
            default=Coalesce(Subquery(burst, output_field=IntegerField()), 0),
            output_field=IntegerField(),
        ),
        warn_organization=Case(
            When(organization__isnull=True, then=Value(False)),
            default=Exists(identity.near_organizations()),
        ),
        warn_namesake=Case(
            When(individual__isnull=True, then=Value(False)),
            default=Exists(namesake_on_letter),
        ),
        warn_listed=Case(
            When(organization__isnull=True, then=Value(False)),
            default=Exists(listed_claim),
        ),
        warn_correction=Exists(correction),
    )


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


def matches_digest(matches: QuerySet) -> str:
    """Which signatures match, in a few characters the preview carries to the confirmation."""
    pks = ",".join(str(pk) for pk in matches.order_by("pk").values_list("pk", flat=True))
    return hashlib.sha256(pks.encode()).hexdigest()[:32]


def signatures_invalidate(
    *, criteria: InvalidationCriteria, reason: str, user, expected_count: int, expected_set: str = ""
) -> Outcome:
    """
    Reject every signature matching `criteria` in one transaction, provided
    they are still the `expected_count` staff saw in the preview — the very
    ones, when the preview's `matches_digest` is given; otherwise nothing
    changes and staff look again.
    """
    if not criteria.is_narrowed:
        raise TransitionError("Choose at least one criterion besides the letter.")
    with transaction.atomic():
        matches = criteria.signatures()
        count = matches.count()
        if count != expected_count:
            raise TransitionError(
                f"{count} signatures match now, not the {expected_count} of the preview. "
                "Check the new preview before confirming."
            )
        if expected_set and matches_digest(matches) != expected_set:
            raise TransitionError(
                "The matching signatures changed since the preview (some left, others arrived). "
                "Check the new preview before confirming."
            )
        return signatures_reject(signatures=matches, user=user, reason=reason)

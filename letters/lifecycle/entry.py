"""Coming in: a signature from the form, from staff, from an import."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from letters.lifecycle.rules import RELATED, TransitionError, forgotten
from letters.models import Letter, Signature
from signatories.models import Individual, Organization


def signature_create(*, signature: Signature, savepoint: bool = True) -> Signature | None:
    """
    Store a new pending signature from the form (its signatory and text already
    decided by letters.signing.services). Returns None, storing nothing, when the
    signatory has a live signature on the letter already (a request that lost a
    race: the database's constraint decides). The caller's transaction survives
    that in a savepoint; with `savepoint=False` it is rolled back when it ends
    (two statements fewer, for a caller that starts again anyway).
    """
    if signature.pk is not None or signature.status != Signature.Status.PENDING:
        raise TransitionError("Only a new pending signature can come from the form.")
    signature.source = Signature.Source.FORM
    signature.signed_at = signature.confirmed_at = signature.approved_at = None
    # The version the form showed: the letter as the request read it, which the sign view
    # checked the form's version against. None before the text has versions: version 1 is
    # that very text, taken when it first changes (LetterVersion.current), at no cost here.
    signature.text_version = signature.letter.text_version or None
    try:
        with transaction.atomic(savepoint=savepoint):
            signature.save(force_insert=True)
    except IntegrityError:
        signature.pk = None
        return None
    return signature


def signature_enter(
    *,
    letter: Letter,
    signatory: Individual | Organization,
    signed_at: dt.datetime,
    user,
    source: str = Signature.Source.STAFF,
    **fields,
) -> Signature:
    """
    An approved signature that staff enter (the change form's "add") or an
    import brings, dated `signed_at`. Refused when the signatory is listed on
    the letter already, or would be on some day (docs/design.md, "One signatory, one lifecycle": never twice).
    """
    if source == Signature.Source.FORM:
        raise TransitionError("Web signatures come through the form and its e-mail link.")
    kind = "organization" if isinstance(signatory, Organization) else "individual"
    now = timezone.now()
    signature = Signature(
        letter=letter,
        status=Signature.Status.APPROVED,
        source=source,
        submitted_at=min(signed_at, now),
        signed_at=signed_at,
        approved_at=now,
        approved_by=user if getattr(user, "pk", None) else None,
        **{kind: signatory},
        **({"public_consent": True} | fields),
    )
    with transaction.atomic():
        if errors := entry_errors(letter, signatory, signed_at, public_consent=signature.public_consent):
            raise ValidationError(errors)
        if "dated_by_day" not in fields:
            # An import dates by a day (the start of `signed_on`); staff by a day when they give no time.
            # (Compared in UTC: Python never finds a time in a zone's gap equal to another zone's.)
            start = letter.start_of_day(letter.local_date(signed_at)).astimezone(dt.UTC)
            signature.dated_by_day = source == Signature.Source.IMPORT or start == signed_at.astimezone(
                dt.UTC
            )
        # Staff and imports enter names under the text as it stands.
        signature.text_version = letter.text_version or None
        signature.full_clean(exclude=RELATED, validate_unique=False, validate_constraints=False)
        # The admin logs the addition itself (the change form, the import).
        signature.save(force_insert=True)
    return signature


# No letter was signed earlier; a date before it is a typing slip (and the
# year 1 has no start of day in a zone west of UTC, which every list computes).
EARLIEST_DAY = dt.date(1900, 1, 1)


def entry_errors(
    letter: Letter,
    signatory: Individual | Organization,
    signed_at: dt.datetime,
    *,
    public_consent: bool = True,
) -> dict:
    """Why staff may not enter this signature, by field (the change form shows them); {} when they may."""
    kind = "organization" if isinstance(signatory, Organization) else "individual"
    if not public_consent:
        # Every listed name has it; a list has no way to leave a name out.
        return {
            "public_consent": "A name is listed only with its signer's consent: enter it once they agreed."
        }
    if forgotten(signatory):
        return {kind: "This record's name was deleted (an erasure or retention): it cannot be listed."}
    if signed_at > timezone.now():
        return {"signed_at": "That moment has not come yet."}
    if signed_at.date() <= EARLIEST_DAY:
        return {
            "signed_at": f"Enter a day after {EARLIEST_DAY:%-d %B %Y}: no letter here was signed earlier."
        }
    accepts = letter.accepts_organizations if kind == "organization" else letter.accepts_individuals
    if not accepts:
        return {kind: f"This letter does not accept {kind} signatures."}
    if already := listed_signature(letter, signatory, since=signed_at):
        return {kind: f"Already on this letter (signature #{already.pk}); it cannot be listed twice."}
    return {}


def signature_on_letter(letter: Letter, signatory: Individual | Organization) -> Signature | None:
    """
    The signature by which `signatory` is on `letter` already, so that an
    import does not list it again (it skips the row): a person's signature
    that speaks for them (`vouched`), whatever became of it since (a
    withdrawal or an erasure is never undone); an organization's, but for a
    claim that never counted — waiting or rejected — since several people may
    claim to sign for an organization and such a claim does not swallow later
    ones (docs/design.md, "Claims on an organization"). A web signature never
    confirmed, or rejected, is what a stranger typed: it keeps nobody off the list.
    """
    kind = "organization" if isinstance(signatory, Organization) else "individual"
    signatures = Signature.objects.filter(letter=letter, **{kind: signatory})
    if kind == "organization":
        signatures = signatures.exclude(unlisted_claim())
    else:
        signatures = signatures.filter(vouched())
    return signatures.order_by("-pk").first()


def vouched() -> Q:
    """
    A signature that speaks for its signatory: entered by staff or an import,
    or a web signature whose link was confirmed, or listed; and not rejected
    unless it was listed once. What an unconfirmed or rejected web signature
    typed acts on its own entry and nothing else: its name, equal to someone
    else's, is a flag for staff, never identity (docs/design.md, "Identity").
    """
    spoken_for = (
        ~Q(source=Signature.Source.FORM)
        | Q(confirmed_at__isnull=False)
        | Q(approved_at__isnull=False)
        | Q(status=Signature.Status.APPROVED)
    )
    return spoken_for & (~Q(status=Signature.Status.REJECTED) | Q(approved_at__isnull=False))


def speaks_for_signer(signature: Signature) -> bool:
    """
    Whether its signer proved `signature` or staff stand behind it (`vouched`,
    a merge's retirement aside): a web signature never confirmed is what
    someone typed, and acts on that signature alone.
    """
    return (
        signature.source != Signature.Source.FORM
        or signature.confirmed_at is not None
        or signature.approved_at is not None
        or signature.status == Signature.Status.APPROVED
    )


def unverified_records(model, pks) -> set[int]:
    """
    Of the records `pks` of `model` (Individual or Organization), those whose
    every signature is an unconfirmed web claim (or one rejected without being
    listed): what they hold was typed by someone nobody vouched for. A record
    with no signature was made by staff.
    """
    kind = "organization" if model is Organization else "individual"
    signed = Signature.objects.filter(**{f"{kind}__in": pks})
    vouched_for = set(signed.filter(vouched()).values_list(f"{kind}_id", flat=True))
    return set(signed.values_list(f"{kind}_id", flat=True)) - vouched_for


def vouched_individuals(letter: Letter):
    """The people on `letter` by a signature that speaks for them (`vouched`): an equal name is theirs."""
    return Individual.objects.filter(
        pk__in=Signature.objects.filter(vouched(), letter=letter, individual__isnull=False).values(
            "individual_id"
        )
    )


def unlisted_claim() -> Q:
    """A claim on an organization that was never listed: waiting, or rejected (not in a merge)."""
    return Q(
        approved_at__isnull=True,
        withdrawn_at__isnull=True,
        erased_at__isnull=True,
        merged_into__isnull=True,
    ) & ~Q(status=Signature.Status.APPROVED)


def listed_signature(
    letter: Letter,
    signatory: Individual | Organization,
    *,
    since: dt.datetime | None = None,
    other_than: int | None = None,
) -> Signature | None:
    """
    A signature of `signatory` on `letter` (but `other_than`) that is live, or
    approved and still listed at or after `since`: another one listed from
    `since` on would put the name on the list twice.
    """
    kind = "organization" if isinstance(signatory, Organization) else "individual"
    live = Q(withdrawn_at__isnull=True) & ~Q(status=Signature.Status.REJECTED)
    if since is not None:
        live |= Q(status=Signature.Status.APPROVED, withdrawn_at__gt=since)
    if kind == "organization":
        # Several people may claim an organization; only a listed one blocks.
        live = Q(status=Signature.Status.APPROVED) & (
            Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=since or timezone.now())
        )
    signatures = Signature.objects.filter(live, letter=letter, erased_at__isnull=True, **{kind: signatory})
    if other_than is not None:
        signatures = signatures.exclude(pk=other_than)
    return signatures.order_by("pk").first()

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
    if errors := _entry_rule_errors(letter, signatory, signed_at, public_consent=public_consent):
        return errors
    kind = "organization" if isinstance(signatory, Organization) else "individual"
    if already := listed_signature(letter, signatory, since=signed_at):
        return {kind: _listed_twice(already)}
    return {}


def _entry_rule_errors(
    letter: Letter, signatory: Individual | Organization, signed_at: dt.datetime, *, public_consent: bool
) -> dict:
    """`entry_errors` but for a signature listed already: what needs no query."""
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
    return {}


def _listed_twice(already: Signature) -> str:
    return f"Already on this letter (signature #{already.pk}); it cannot be listed twice."


def entries_errors(
    letter: Letter, entries: list[tuple[Individual | Organization, dt.datetime]]
) -> list[dict]:
    """
    `entry_errors` of many signatures at once (an import's batch): for each
    (signatory, signed_at), why it may not be entered; one query for each
    kind of signatory, whatever their number. The signatures of the
    signatories on file are read at once and `listed_since` decides for each
    moment as `listed_signature` does.
    """
    pks: dict[str, set[int]] = {"individual": set(), "organization": set()}
    for signatory, _ in entries:
        if signatory.pk is not None:
            pks["organization" if isinstance(signatory, Organization) else "individual"].add(signatory.pk)
    found: dict[tuple[str, int], list[Signature]] = {}
    for kind, ids in pks.items():
        if ids:
            signatures = Signature.objects.filter(
                letter=letter, erased_at__isnull=True, **{f"{kind}__in": ids}
            )
            for signature in signatures.order_by("pk"):
                found.setdefault((kind, getattr(signature, f"{kind}_id")), []).append(signature)
    errors = []
    for signatory, signed_at in entries:
        kind = "organization" if isinstance(signatory, Organization) else "individual"
        error = _entry_rule_errors(letter, signatory, signed_at, public_consent=True)
        if not error and (already := listed_since(found.get((kind, signatory.pk), []), kind, signed_at)):
            error = {kind: _listed_twice(already)}
        errors.append(error)
    return errors


def listed_since(signatures: list[Signature], kind: str, since: dt.datetime) -> Signature | None:
    """
    `listed_signature(letter, signatory, since=since)` over `signatures`, the
    signatory's on the letter not erased, in order of pk (read at once for a
    batch by `entries_errors`): the same rule, in Python.
    """
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


def signatures_enter(*, letter: Letter, signatures: list[Signature], user, now: dt.datetime) -> None:
    """
    Store new approved signatures of `letter` (an import's batch: their
    signatories, new ones too, and `signed_at` set; checked by
    `entries_errors`), as `signature_enter` stores one, approved at `now` (one
    moment for a whole file: the list of what it imported filters by it).
    Four queries whatever their number: the new people, the new
    organizations, the signatures, the letter's roster_version (and one for
    each kind of record on file that the import filled in). The caller's
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

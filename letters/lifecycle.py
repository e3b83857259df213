"""
What a signature may become, and the one place that makes it so.

PRODUCT.md, "One signatory, one lifecycle": pending → confirmed → approved (a
letter without approval: pending → approved on confirmation), rejected by staff
with a reason, `withdrawn_at` and `erased_at` set at the signer's request (or
by staff on the signer's written request). Every change of a signature's
status, `signed_at`, `withdrawn_at`, erasure or printed text is a function of
this module, whoever asks: the form, an e-mail link, the signer's page, a staff
action (list or change form), an import or a merge. What nobody can do through
any of them: approve a web signature that was never confirmed; clear a
withdrawal or an erasure (the person signs again instead); move a signature to
another letter or signatory (but a merge of duplicates); change the
`signed_at` of a web signature.

Every write runs in one transaction with the rows locked, and leaves an admin
log entry when staff did it. The letter's `roster_version` follows by itself
(letters.models).
"""

import datetime as dt
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from signatories import identity
from signatories.models import Individual, Organization
from signatories.normalize import clean_text

from . import exports, pagecache
from .models import Correction, Delivery, Letter, Signature
from .retention import ERASED, SIGNATURE_PRIVATE_FIELDS, history_scrub, private_values

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
    "rejected": ("rejected", {"status": Signature.Status.REJECTED}),
}

# A signature's related rows, which its writers already hold: validating them
# would cost a query each on the busiest path.
RELATED = ["letter", "individual", "organization", "approved_by", "merged_into"]

# The printed fields a correction carries, by kind of signatory.
PRINTED_FIELDS = {
    "individual": ("name", "title", "country"),
    "organization": ("name", "acronym", "website", "country"),
}


# What staff may still edit on a signature's page; everything else changes only through a transition.
# Not `public_consent`: every listed name has it (`entry_errors`); a withdrawal or erasure takes one off.
STAFF_EDITABLE_FIELDS = ["contact_consent", "signer_name", "contact_email", "notes"]


def staff_editable_fields(signature: Signature) -> list[str]:
    """
    The fields staff may edit on `signature`'s page: none once it is erased,
    whose private data nothing brings back (not a page opened before the erasure).
    """
    return [] if signature.erased_at is not None else STAFF_EDITABLE_FIELDS


def bucket_q(key: str, prefix: str = "") -> Q:
    """The bucket `key` as a Q on signatures, or on a relation to them (`prefix="signatures__"`)."""
    return Q(**{f"{prefix}{name}": value for name, value in BUCKETS[key][1].items()})


class TransitionError(Exception):
    """A change the lifecycle does not allow; the message is for whoever asked."""


class SigningClosed(TransitionError):
    """The letter does not accept signatures (draft, closed, not yet open, or not of this kind)."""


@dataclass(frozen=True)
class Outcome:
    changed: int
    # Selected signatures the action does not apply to (already approved, withdrawn…).
    skipped: int
    # Why some were skipped, when it is worth telling staff.
    notes: tuple[str, ...] = ()


def clean_reason(reason: str) -> str:
    """One line of at most 500 characters, without control characters."""
    reason = "".join(char for char in clean_text(reason) if unicodedata.category(char) != "Cc")
    return reason[:500]


def needs_approval(signature: Signature) -> bool:
    """Organization signatures always wait for staff; individual ones when the letter says so."""
    return signature.is_organization or signature.letter.requires_approval


def correction_needs_approval(signature: Signature) -> bool:
    """
    A new printed entry waits for staff where the signature does, and where the
    signatory is listed on another letter that requires approval: the record is
    one, and a correction reprints it on every letter it signed.
    """
    if needs_approval(signature):
        return True
    return Signature.objects.filter(
        individual_id=signature.individual_id,
        status=Signature.Status.APPROVED,
        erased_at__isnull=True,
        letter__requires_approval=True,
    ).exists()


def namesake_listed(signature: Signature) -> bool:
    """
    Someone of the same name who may be this very person is on the letter's
    list: a record without an e-mail (an imported row), which
    `signatories.identity` cannot tell apart. The signature then waits for staff
    even where the letter needs no approval, so that nobody is listed twice
    without a person deciding it. Two signers with their own addresses are two
    people, whatever their names.
    """
    if signature.individual_id is None:
        return False
    namesakes = identity.namesakes_of(signature.individual)
    if signature.individual.canonical_email:
        namesakes = namesakes.filter(canonical_email="")
    return Signature.objects.filter(
        letter_id=signature.letter_id,
        status=Signature.Status.APPROVED,
        erased_at__isnull=True,
        individual__in=namesakes,
    ).exists()


def approvable() -> Q:
    """
    Signatures staff may approve: confirmed by e-mail and awaiting approval, or
    rejected after confirmation (staff changing their mind), and neither
    withdrawn nor erased, nor by a person whose name was deleted (`forgotten`).
    An unconfirmed web signature is never approved: nobody has shown that the
    address is the signer's.
    """
    confirmed_before = Q(confirmed_at__isnull=False) | ~Q(source=Signature.Source.FORM)
    return Q(withdrawn_at__isnull=True, erased_at__isnull=True, individual__forgotten_at__isnull=True) & (
        Q(status=Signature.Status.CONFIRMED) | (Q(status=Signature.Status.REJECTED) & confirmed_before)
    )


def forgotten(signatory: Individual | Organization) -> bool:
    """
    A person whose name an erasure or the retention purge deleted: their
    record says "Erased signatory #12", which no list may print.
    """
    return isinstance(signatory, Individual) and signatory.forgotten_at is not None


def _locked(signatures: QuerySet, condition: Q) -> list[Signature]:
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the joins.
    return list(
        Signature.objects.filter(pk__in=signatures.values("pk"))
        .filter(condition)
        .select_for_update(of=("self",))
        .select_related("letter", "individual", "organization")
        .order_by("pk")
    )


def _lock_one(signature: Signature) -> Signature:
    return (
        Signature.objects.select_for_update(of=("self",))
        .select_related("letter", "individual", "organization")
        .get(pk=signature.pk)
    )


def _log(user, objects: list, message: str, flag: int = CHANGE) -> None:
    if objects and user is not None and user.pk is not None:
        LogEntry.objects.log_actions(user.pk, objects, flag, message)


def _save(signature: Signature, fields: list[str]) -> None:
    signature.full_clean(exclude=RELATED, validate_unique=False, validate_constraints=False)
    signature.save(update_fields=[*fields, "updated_at"])


# -- Coming in: the form, staff, an import ------------------------------------


def signature_create(*, signature: Signature, savepoint: bool = True) -> Signature | None:
    """
    Store a new pending signature from the form (its signatory and text already
    decided by letters.services). Returns None, storing nothing, when the
    signatory has a live signature on the letter already (a request that lost a
    race: the database's constraint decides). The caller's transaction survives
    that in a savepoint; with `savepoint=False` it is rolled back when it ends
    (two statements fewer, for a caller that starts again anyway).
    """
    if signature.pk is not None or signature.status != Signature.Status.PENDING:
        raise TransitionError("Only a new pending signature can come from the form.")
    signature.source = Signature.Source.FORM
    signature.signed_at = signature.confirmed_at = signature.approved_at = None
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
    the letter already, or would be on some day (PRODUCT.md: never twice).
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


def standing_signature(letter: Letter, signatory: Individual | Organization) -> Signature | None:
    """
    The signature by which `signatory` is on `letter` already, in any state,
    so that an import does not list it again (it skips the row): a person's
    signature, whatever became of it (a withdrawal or an erasure is never
    undone, a waiting one is theirs to confirm); an organization's, but for a
    claim that never counted — waiting or rejected — since several people may
    claim to sign for an organization and such a claim does not swallow later
    ones (PRODUCT.md, "Claims on an organization").
    """
    kind = "organization" if isinstance(signatory, Organization) else "individual"
    signatures = Signature.objects.filter(letter=letter, **{kind: signatory})
    if kind == "organization":
        signatures = signatures.exclude(unlisted_claim())
    return signatures.order_by("-pk").first()


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


def signatures_keep_their_days(*, letter: Letter, old_timezone: str) -> int:
    """
    Staff changed the letter's time zone (`Letter.save` calls this): a
    signature dated by a day, as an import or staff enter one (the start of
    the day in the letter's zone), stays on that day's list, now from the
    start of the day in the new zone. A moment (a web signature's
    confirmation, one entered with its time) stays the moment it was.
    """
    old_zone = zoneinfo.ZoneInfo(old_timezone)
    dated = Signature.objects.filter(letter=letter, signed_at__isnull=False).exclude(
        source=Signature.Source.FORM
    )
    moved = []
    for signature in dated.only("pk", "signed_at").iterator(chunk_size=2000):
        local = signature.signed_at.astimezone(old_zone)
        if local.time() == dt.time.min:
            signature.signed_at = letter.start_of_day(local.date())
            moved.append(signature)
    Signature.objects.bulk_update(moved, ["signed_at"], batch_size=1000)
    return len(moved)


# -- The signer: confirm, withdraw, erase, correct ----------------------------


def signature_confirm(*, signature: Signature) -> Signature:
    """
    The signer pressed the button behind the confirmation link: a pending
    signature is confirmed — `confirmed_at` and `signed_at` now — with the
    correction submitted together with it, and approved unless it waits for
    staff. Confirming again, after a withdrawal or rejection, or once the
    signer's name was deleted (`forgotten`), changes nothing.
    Raises SigningClosed when the letter closed before the signer confirmed.
    """
    with transaction.atomic():
        signature = _lock_one(signature)
        if signature.status != Signature.Status.PENDING or signature.withdrawn_at or signature.erased_at:
            return signature
        if forgotten(signature.signatory):
            return signature
        if not signature.letter.is_accepting_signatures():
            raise SigningClosed("The letter closed to new signatures before this one was confirmed.")
        now = timezone.now()
        signature.confirmed_at = now
        # A web signature is valid from the moment its owner confirms it.
        signature.signed_at = now
        if needs_approval(signature) or namesake_listed(signature):
            signature.status = Signature.Status.CONFIRMED
        else:
            signature.status = Signature.Status.APPROVED
            signature.approved_at = now
        corrections = signature.corrections.filter(with_signature=True, status=Correction.Status.PENDING)
        for correction in corrections:
            _correction_confirmed(correction, signature, now)
        _save(signature, ["status", "confirmed_at", "signed_at", "approved_at"])
    return signature


def signature_withdraw(*, signature: Signature, reason: str = "", user=None) -> Signature:
    """
    Withdraw a signature now, at the signer's request (through their page, or
    staff acting on their word). It stays on the lists of the days before
    (PRODUCT.md, "as of"); withdrawing twice keeps the first date.
    """
    with transaction.atomic():
        signature = _lock_one(signature)
        if signature.withdrawn_at is not None:
            return signature
        signature.withdrawn_at = timezone.now()
        signature.withdrawal_reason = clean_reason(reason)
        _save(signature, ["withdrawn_at", "withdrawal_reason"])
        _corrections_end([signature.pk], signature.withdrawn_at)
        _log(user, [signature], "Marked withdrawn" + (f": {signature.withdrawal_reason}" if reason else "."))
    return signature


def signature_erase(*, signature: Signature, user=None) -> Signature:
    """
    "Remove my name from every list, including earlier days": the signer's
    entry on the letter (`entry_signatures`: the signature, the ones merged
    with it, and a person's other periods on the letter) leaves the lists of
    every day and the public pages of past deliveries; the signer's private
    data (address, IP hash, names, notes, the corrections they proposed) is
    deleted, and so is the signatory record's when no other signature needs
    it. The admin history keeps that an erasure happened and loses the name
    and the address. Nothing brings it back.
    """
    with transaction.atomic():
        signature = _lock_one(signature)
        if signature.erased_at is not None:
            return signature
        now = timezone.now()
        group = [signature, *(other for other in entry_signatures(signature) if other.pk != signature.pk)]
        # Who the signer is, scrubbed from any entry of the history; what they
        # wrote (notes, a reason), only from the entries about them: free text
        # such as "Approved" also stands in entries about other signers. An
        # organization's name is its own and public: it stays in the history.
        names = {signature.signatory.name} if signature.individual_id else set()
        texts = set()
        for each in group:
            names |= {each.contact_email, each.contact_mailbox, each.signer_name, each.ip_hash}
            texts |= private_values(each)
            each.erased_at = now
            each.withdrawn_at = each.withdrawn_at or now
            # The same private fields a retention purge empties.
            for field, empty in SIGNATURE_PRIVATE_FIELDS.items():
                setattr(each, field, empty)
            _save(each, ["erased_at", "withdrawn_at", *SIGNATURE_PRIVATE_FIELDS])
            for correction in each.corrections.all():
                names.add(correction.name)
                texts.add(correction.title)
            each.corrections.all().delete()
        held_names, held_texts = _erase_signatory(signature, names)
        merged_away = _merged_away(signature.individual_id) if signature.individual_id else set()
        _scrub_history(group, names | held_names, (texts | held_texts) - names, merged_away)
        _scrub_notes(group, names | held_names, {signature.individual_id, *merged_away} - {None})
        _log(user, group, "Erased at the signer’s request.")
        # Pages and PDFs of earlier states print the name: none is served again (the
        # roster's version moved on), and none is kept.
        letter_id = signature.letter_id
        transaction.on_commit(lambda: (pagecache.forget_letter(letter_id), exports.forget_pdfs(letter_id)))
    return signature


def entry_signatures(signature: Signature) -> list[Signature]:
    """
    The signatures, locked, that are the signer's entry on the letter, as an
    erasure removes it: a person's every signature on it (each period, and
    those a merge folded into another, which it moved to the person kept); for
    an organization's claim, those merged with it (other people may sign for
    the organization).
    """
    others = Signature.objects.select_for_update(of=("self",)).select_related(
        "letter", "individual", "organization"
    )
    if signature.individual_id:
        return list(others.filter(letter_id=signature.letter_id, individual_id=signature.individual_id))
    root = signature_standing(signature)
    found, frontier = {root.pk}, {root.pk}
    while frontier:
        # Only the signer's own: other people's claims a merge folded in are theirs.
        merged = Signature.objects.filter(merged_into__in=frontier, contact_mailbox=root.contact_mailbox)
        frontier = set(merged.values_list("pk", flat=True)) - found
        found |= frontier
    return list(others.filter(pk__in=found))


def merged_targets(pks: list[int]) -> dict[int, int]:
    """{signature: the signature that stands for it after merges}, following merges of merges."""
    found: dict[int, int] = {}
    current = dict(
        Signature.objects.filter(pk__in=pks, merged_into__isnull=False).values_list("pk", "merged_into")
    )
    while current:
        for pk, target in current.items():
            found[pk] = target
        followed = dict(
            Signature.objects.filter(pk__in=current.values(), merged_into__isnull=False).values_list(
                "pk", "merged_into"
            )
        )
        current = {pk: followed[target] for pk, target in current.items() if target in followed}
    return found


def signature_standing(signature: Signature) -> Signature:
    """
    The signature that is the signer's entry now: `signature`, or the one a
    merge kept in its place when it is the same signer's (`same_signer`). The
    signer's page acts on it, so the links of every e-mail keep working after
    staff merge duplicates, and never reach someone else's entry.
    """
    target = merged_targets([signature.pk]).get(signature.pk)
    if target is None:
        return signature
    kept = Signature.objects.select_related("letter", "individual", "organization").get(pk=target)
    return kept if same_signer(signature, kept) else signature


def same_signer(signature: Signature, other: Signature) -> bool:
    """
    Whether two signatures that a merge joined were made by one signer: a
    person's always (staff merged the records as one person); claims on an
    organization only from one mailbox, since other people may sign for it.
    """
    if signature.individual_id is not None:
        return True
    return bool(signature.contact_mailbox) and signature.contact_mailbox == other.contact_mailbox


def _erase_signatory(signature: Signature, signer: set[str]) -> tuple[set[str], set[str]]:
    """
    Empty what the signatory's record holds of the signer when no signature
    that is not erased still needs it: a person's name, title and address; an
    organization's contact (its name is its own, public, and off the lists
    already). An organization's contact goes at once when it is the signer's
    (`signer`: their names and addresses), whoever else signs for it.
    Returns what it held: the names and addresses, and the texts.
    """
    signatory = signature.signatory
    if signatory.signatures.filter(erased_at__isnull=True).exists():
        if isinstance(signatory, Individual):
            return set(), set()
        theirs = {
            field
            for field, value in [
                ("contact_name", signatory.contact_name),
                ("contact_email", identity.canonical(signatory.contact_email)),
            ]
            if value and value in signer
        }
        if not theirs:
            return set(), set()
        held = {signatory.contact_name, signatory.contact_email}
        signatory.contact_name = signatory.contact_email = ""
        signatory.save(update_fields=["contact_name", "contact_email", "updated_at"])
        return held, set()
    if isinstance(signatory, Individual):
        return _individual_forget(signatory, ERASED_NAME)
    texts = {signatory.notes}
    names = {signatory.contact_name, signatory.contact_email}
    signatory.notes = signatory.contact_name = signatory.contact_email = ""
    signatory.save()
    return names, texts


# What a person's record says in place of a name that is gone.
ERASED_NAME = "Erased signatory #{pk}"
NEVER_PRINTED_NAME = "Name deleted after retention (#{pk})"


def _individual_forget(individual: Individual, label: str) -> tuple[set[str], set[str]]:
    """
    Empty a person's record but for `label` in place of the name. Returns
    what it held: the names and addresses, and the texts.
    """
    names = {individual.name, individual.email, individual.canonical_email, individual.sort_name}
    texts = {individual.notes, individual.title}
    individual.name = label.format(pk=individual.pk)
    individual.title = individual.email = individual.sort_name = individual.country = individual.notes = ""
    individual.forgotten_at = timezone.now()
    individual.save()
    return names, texts


def never_printed_forget(*, letter_ids: list[int], dry_run: bool = False) -> int:
    """
    For the retention purge of the letters `letter_ids`: the people who signed
    them but whose name no day's list printed (never confirmed, never
    approved, rejected) and nothing else holds (a signature on a letter still
    within retention, an approved one, one a delivery froze). Their record is
    emptied as an erasure empties it, with the corrections they proposed, the
    admin history's entries about them and other signatures' notes naming their record. Their
    signatures stay, nameless, in the letter's counts. Returns how many people.
    """
    live = Signature.objects.filter(erased_at__isnull=True, individual__isnull=False)
    printed = live.filter(Q(status=Signature.Status.APPROVED) | ~Q(letter_id__in=letter_ids))
    unprinted = (
        live.filter(letter_id__in=letter_ids, individual__forgotten_at__isnull=True)
        .exclude(individual_id__in=printed.values("individual_id"))
        .values("individual_id")
    )
    # Subqueries, not lists: a viral letter leaves tens of thousands who never confirmed.
    rows = list(live.filter(individual_id__in=unprinted).values_list("pk", "letter_id", "individual_id"))
    delivered: set[int] = set()
    for ids in Delivery.objects.filter(letter_id__in={letter for _, letter, _ in rows}).values_list(
        "signature_ids", flat=True
    ):
        delivered.update(ids)
    people = sorted({person for _, _, person in rows} - {person for pk, _, person in rows if pk in delivered})
    if dry_run:
        return len(people)
    for at in range(0, len(people), 500):
        for person in Individual.objects.filter(pk__in=people[at : at + 500]):
            _never_printed_forget_one(person)
    return len(people)


def _never_printed_forget_one(person: Individual) -> None:
    with transaction.atomic():
        group = list(Signature.objects.select_related("individual").filter(individual=person))
        names, texts = _individual_forget(person, NEVER_PRINTED_NAME)
        for correction in Correction.objects.filter(signature__individual=person):
            names.add(correction.name)
            texts.add(correction.title)
        Correction.objects.filter(signature__individual=person).delete()
        merged_away = _merged_away(person.pk)
        # Out of the entries about them and the notes that name their record, not out of every
        # text in the database: a name no list printed, often a sign-up's "Lee" or "test", also
        # spells parts of other people's names and words, where an erasure's real name does not.
        _scrub_history(group, set(), names | texts, merged_away)
        _scrub_notes(group, set(), {person.pk, *merged_away})


def _merged_away(individual_id: int) -> set[int]:
    """The records of people merged into `individual_id`, and into those, as the merges' history says."""
    individual_type = ContentType.objects.get_for_model(Individual).pk
    found: set[int] = set()
    frontier = {individual_id}
    while frontier:
        merged = Q()
        for pk in frontier:
            merged |= Q(change_message__startswith=f"Merged into #{pk} ")
        ids = LogEntry.objects.filter(merged, content_type_id=individual_type, action_flag=DELETION)
        frontier = {int(pk) for pk in ids.values_list("object_id", flat=True) if pk.isdigit()} - found
        found |= frontier
    return found


def _scrub_history(
    signatures: list[Signature], names: set[str], texts: set[str], merged_away: set[int] = frozenset()
) -> None:
    """
    The admin history without the signer, in one pass: `names` (names,
    addresses) out of any entry that quotes them, `texts` (notes, a reason, a
    title) out of the entries of the `signatures` and their signatories, and
    the entries of the records `merged_away` into the person's, which quote
    how they spelled their name and title then, emptied but for the merge.
    """
    words = {value for value in names if value and len(value) >= 3}
    signature_type = ContentType.objects.get_for_model(Signature).pk
    individual_type = ContentType.objects.get_for_model(Individual).pk
    erased = {(signature_type, str(signature.pk)): signature for signature in signatures}
    away = {(individual_type, str(pk)) for pk in merged_away}
    own_keys = (
        set(erased)
        | away
        | {
            (ContentType.objects.get_for_model(type(signature.signatory)).pk, str(signature.signatory.pk))
            for signature in signatures
        }
    )
    own = Q()
    for content_type_id, object_id in own_keys:
        own |= Q(content_type_id=content_type_id, object_id=object_id)
    naming = Q()
    for word in words:
        naming |= Q(change_message__contains=word) | Q(object_repr__contains=word)
    for entry in LogEntry.objects.filter(own | naming if words else own):
        key = (entry.content_type_id, entry.object_id)
        history_scrub(entry, words | texts if key in own_keys else words)
        if key in erased:
            entry.object_repr = f"Signature #{erased[key].pk} ({ERASED})"
        elif key in away:
            entry.object_repr = f"Individual #{entry.object_id} ({ERASED})"
            if entry.action_flag == DELETION:
                entry.change_message = entry.change_message.split(". Held ", 1)[0] + f". Held {ERASED}"
        entry.save(update_fields=["change_message", "object_repr"])


# How a signature's notes name another record (letters.services, `_near_note`).
NOTE_NAMING = r"#{pk} “[^”\n]*”(?: \([^)\n]*\))?"


def _scrub_notes(signatures: list[Signature], names: set[str], individual_ids: set[int]) -> None:
    """
    Other signatures' notes without the signer: the notes that name their
    record ("Possible duplicate of individual #12 “Jane Doe” (Belarus)") and
    any quote of `names`, so that nothing ties the erased record to them.
    """
    words = sorted((value for value in names if value and len(value) >= 3), key=len, reverse=True)
    naming = Q()
    for pk in individual_ids:
        naming |= Q(notes__contains=f"individual #{pk} “")
    for word in words:
        naming |= Q(notes__contains=word)
    if not naming:
        return
    pattern = individual_ids and re.compile(
        "individual (" + "|".join(NOTE_NAMING.format(pk=pk) for pk in individual_ids) + ")"
    )
    others = Signature.objects.filter(naming).exclude(pk__in=[signature.pk for signature in signatures])
    changed = []
    for other in others.only("pk", "notes"):
        notes = other.notes
        if pattern:
            notes = pattern.sub(lambda m: f"individual {m.group(1).split(' ', 1)[0]} ({ERASED})", notes)
        for word in words:
            notes = notes.replace(word, ERASED)
        if notes != other.notes:
            other.notes = notes
            changed.append(other)
    Signature.objects.bulk_update(changed, ["notes"], batch_size=500)


# Corrections that may still print: waiting for their link, or for staff.
OPEN_CORRECTIONS = (Correction.Status.PENDING, Correction.Status.CONFIRMED)


def _corrections_end(signature_ids: list[int], now: dt.datetime) -> None:
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
        locked = _lock_one(signature)
        if locked.withdrawn_at or locked.erased_at:
            raise ValidationError("A withdrawn signature cannot be corrected: sign the letter again instead.")
        if forgotten(locked.signatory):
            # A name typed in again would stay for good: the purge empties each record once.
            raise ValidationError("This entry's name was deleted: sign the letter again instead.")
        # Nothing waiting is replaced until the new proposal is confirmed
        # (`_correction_confirmed`): anyone can type a signer's address into
        # the form, and that must not cancel what the signer proved.
        correction = Correction(signature=signature, with_signature=with_signature, **entry)
        correction.full_clean(exclude=["signature", "decided_by"])
        correction.save()
        if confirmed:
            _correction_confirmed(correction, signature, timezone.now())
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
        _correction_confirmed(correction, signature, timezone.now())
    return correction


def _correction_confirmed(correction: Correction, signature: Signature, now: dt.datetime) -> None:
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
        _correction_apply(correction, None, now)


def _correction_apply(correction: Correction, user, now: dt.datetime) -> None:
    signatory = correction.signature.signatory
    kind = "organization" if isinstance(signatory, Organization) else "individual"
    for name in PRINTED_FIELDS[kind]:
        setattr(signatory, name, getattr(correction, name))
    signatory.full_clean(validate_unique=False, validate_constraints=False)
    signatory.save()
    correction.status = Correction.Status.APPLIED
    correction.decided_at, correction.decided_by = now, user
    correction.save(update_fields=["status", "decided_at", "decided_by"])
    _log(user, [correction.signature], f"Correction applied: now printed as “{correction.printed}”.")


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
        for correction in rows:
            _correction_apply(correction, user, now)
    return Outcome(changed=len(rows), skipped=corrections.count() - len(rows))


def corrections_reject(*, corrections: QuerySet, user) -> Outcome:
    with transaction.atomic():
        rows = list(corrections.filter(status__in=[Correction.Status.PENDING, Correction.Status.CONFIRMED]))
        Correction.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=Correction.Status.REJECTED, decided_at=timezone.now(), decided_by=user
        )
        _log(user, [row.signature for row in rows], "Correction rejected.")
    return Outcome(changed=len(rows), skipped=corrections.count() - len(rows))


# -- Staff: approve, reject, withdraw, erase ----------------------------------


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
        for row in _locked(signatures, approvable()):
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
            _save(
                row, ["status", "approved_at", "approved_by", "signed_at", "rejected_at", "rejection_reason"]
            )
            for correction in row.corrections.filter(with_signature=True, status=Correction.Status.CONFIRMED):
                _correction_apply(correction, user, now)
            approved.append(row)
        _log(user, approved, "Approved.")
    return Outcome(changed=len(approved), skipped=total - len(approved), notes=tuple(notes))


def signatures_reject(*, signatures: QuerySet, user, reason: str) -> Outcome:
    """Reject every selected signature that is not rejected or erased, with a reason staff can read later."""
    reason = clean_reason(reason)
    if not reason:
        raise TransitionError("Give a reason for the rejection.")
    now = timezone.now()
    total = signatures.count()
    with transaction.atomic():
        rows = _locked(signatures, ~Q(status=Signature.Status.REJECTED) & Q(erased_at__isnull=True))
        Signature.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=Signature.Status.REJECTED, rejected_at=now, rejection_reason=reason
        )
        _log(user, rows, f"Rejected: {reason}")
    return Outcome(changed=len(rows), skipped=total - len(rows))


def signatures_withdraw(*, signatures: QuerySet, user, reason: str = "") -> Outcome:
    """
    Mark signatures withdrawn now (a signer who asked by e-mail or telephone).
    They stay on the lists of earlier days, like a withdrawal on the signer's page.
    """
    reason = clean_reason(reason)
    total = signatures.count()
    with transaction.atomic():
        rows = _locked(signatures, Q(withdrawn_at__isnull=True))
        now = timezone.now()
        Signature.objects.filter(pk__in=[row.pk for row in rows]).update(
            withdrawn_at=now, withdrawal_reason=reason
        )
        _corrections_end([row.pk for row in rows], now)
        _log(user, rows, "Marked withdrawn" + (f": {reason}" if reason else "."))
    return Outcome(changed=len(rows), skipped=total - len(rows))


def signatures_erase(*, signatures: QuerySet, user) -> Outcome:
    """Erase signatures on their signers' written request (see `signature_erase`)."""
    total = signatures.count()
    rows = list(signatures.filter(erased_at__isnull=True).order_by("pk"))
    for row in rows:
        signature_erase(signature=row, user=user)
    return Outcome(changed=len(rows), skipped=total - len(rows))


# -- Merging duplicates --------------------------------------------------------


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
            _corrections_end([kept.pk], now)
        for signature in others:
            _log(user, [signature], f"Duplicate of signature #{kept.pk}: retired by a merge of {kind}s.")
        _log(
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

"""
Signing a letter: what a submission of the form becomes, what the signer does
through the links we send, and the e-mails that go with each step. Who the
signatory is comes from `signatories.identity`; what a signature may become,
from `letters.lifecycle`, which every write here goes through.

Public functions for other parts of the project (the staff admin calls these):

- `confirmation_resend(signature=...)` sends a new confirmation link to a
  pending signature's address (after a mail failure, or when a signer asks).
- `signature_email_enqueue(signature_id=..., kind=...)` queues any of the
  signer e-mails of `letters.signing.tasks` once the current transaction commits.
"""

import dataclasses
import hashlib
import hmac
import logging
import time
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_countries import countries
from django_tasks_db.backend import DatabaseBackend

from letters import lifecycle
from letters.lifecycle import SigningClosed
from letters.lifecycle.corrections import correction_allowed
from letters.models import Letter, Signature
from letters.outputs.cache import CACHE_ERRORS
from letters.signing.mailcaps import mailbox_digest
from letters.signing.ratelimits import process_counters
from letters.signing.tasks import send_links_email, send_signature_email
from signatories import identity
from signatories.models import Individual, Organization
from signatories.normalize import canonical_email

logger = logging.getLogger(__name__)

INDIVIDUAL = "individual"
ORGANIZATION = "organization"


@dataclasses.dataclass(frozen=True)
class Submission:
    signature: Signature
    # False when the signatory had already signed (or started to sign) the
    # letter: nothing new was stored. Never shown to the visitor.
    created: bool


def ip_hash(ip_address: str) -> str:
    """
    The signer's IP address as an HMAC-SHA256 keyed with settings.IP_HASH_SALT:
    equal addresses give equal hashes, but the address cannot be read back
    without the key. Cheap on purpose: it runs on every submission.
    """
    if not ip_address:
        return ""
    return hmac.new(settings.IP_HASH_SALT.encode(), ip_address.encode(), hashlib.sha256).hexdigest()


def accepted_kinds(letter: Letter) -> list[str]:
    """What the letter's form offers, individuals first."""
    return [INDIVIDUAL] * letter.accepts_individuals + [ORGANIZATION] * letter.accepts_organizations


def signature_submit(
    *,
    letter: Letter,
    kind: str,
    email: str,
    public_consent: bool,
    contact_consent: bool = False,
    name: str = "",
    title: str = "",
    country: str = "",
    organization_name: str = "",
    acronym: str = "",
    website: str = "",
    ip_address: str = "",
    language: str = "",
    unnamed: bool = False,
    family_name: str = "",
    address_proven: bool = False,
) -> Submission:
    """
    Store a submission of the public form and queue the e-mail that follows.

    `name` is the signer's own name: the printed name of an individual, the
    private representative of an organization. Who the signatory is, is
    `signatories.identity`'s answer. A new signature waits for its link. The
    same signatory submitting again from the same address changes nothing that
    an earlier link publishes: a different entry becomes a correction with its
    own link, the same one a new link. A claim on an organization from another
    address is a signature of its own, for staff to weigh (docs/design.md, "Claims
    on an organization"). `address_proven`: the address is one staff chose
    (an invitation's link): no confirmation e-mail, and an entry submitted
    again is confirmed at once; the caller confirms the signature.
    """
    if not letter.is_accepting_signatures():
        raise SigningClosed("This letter does not accept signatures at the moment.")
    if kind not in accepted_kinds(letter):
        raise SigningClosed(f"This letter does not accept {kind} signatures.")
    if not public_consent:
        raise ValidationError({"public_consent": "A signature needs consent to publish the name."})
    if not email.strip():
        # The address is who signs: it confirms, withdraws, and keeps one mailbox to one signature.
        raise ValidationError({"email": "A signature needs an e-mail address."})

    # Everything that can be checked without the database is checked before
    # the transaction starts: on SQLite, writers take turns for as long as it lasts.
    if kind == INDIVIDUAL:
        submitted = Individual(
            name=name, title=title, country=country, email=email.strip(), family_name=family_name
        )
    else:
        submitted = Organization(
            name=organization_name,
            acronym=acronym,
            country=country,
            website=website,
            contact_name=name,
            contact_email=email.strip(),
        )
    _validate(submitted)
    signature = Signature(
        letter=letter,
        status=Signature.Status.PENDING,
        source=Signature.Source.FORM,
        submitted_at=timezone.now(),
        public_consent=True,
        contact_consent=contact_consent,
        signer_name=name,
        contact_email=email.strip(),
        ip_hash=ip_hash(ip_address),
        language=language[:10],
        unnamed=unnamed,
    )
    # The model's constraints are checked by the database on insert (a query
    # each here would also race), and the related rows are in hand.
    signature.full_clean(exclude=lifecycle.RELATED, validate_unique=False, validate_constraints=False)
    entry = {name: getattr(submitted, name) for name in lifecycle.PRINTED_FIELDS[kind]}
    for attempt in range(3):
        # A lost race (below) gives up the whole transaction, which wrote
        # nothing else, and starts again: no savepoints on the signup path.
        submitted.pk, submitted._state.adding = None, True
        signature.pk, signature._state.adding = None, True
        known, notes = None, []
        if kind == INDIVIDUAL:
            # An individual is found by the mailbox, which the table keeps
            # unique: looked up before the write transaction (on SQLite,
            # writers take turns for as long as it lasts), with the database's
            # constraints catching a signer who races themself.
            known, notes = _individual_for(submitted)
        try:
            stored = _store(letter, kind, submitted, known, notes, signature, entry, address_proven)
        except IntegrityError:
            # The record found was merged away before the commit (foreign keys
            # are checked then): look again.
            if attempt == 2:
                raise
            continue
        if stored is not None:
            return stored
    raise RuntimeError("The signature could not be stored; try again.")


def _store(
    letter: Letter,
    kind: str,
    submitted: Individual | Organization,
    known: Individual | Organization | None,
    notes: list[str],
    signature: Signature,
    entry: dict,
    address_proven: bool = False,
) -> Submission | None:
    """The write transaction of `signature_submit`: None when a race was lost and it must start again."""
    with transaction.atomic():
        if kind == ORGANIZATION:
            known, notes = _organization_for(submitted)
        existing = known and _own_live_signature(letter, known, signature.contact_email)
        if existing:
            _submitted_again(
                existing, entry=entry, email=signature.contact_email, address_proven=address_proven
            )
            return Submission(existing, created=False)
        if known is None and not _inserted(submitted):
            return None  # two first signatures from one mailbox: the other one's signatory is it
        setattr(signature, kind, known or submitted)
        signature.notes = "\n".join(notes)
        if lifecycle.signature_create(signature=signature, savepoint=False) is None:
            return None  # another request of the same signer won the race: theirs is the signature
        if known is not None:
            # Someone already on file, who may spell the entry differently now:
            # the signature's own link confirms what was submitted with it.
            lifecycle.correction_propose(
                signature=signature, entry=entry, confirmed=False, with_signature=True
            )
        if not address_proven:
            signature_email_enqueue(signature_id=signature.pk, kind="confirm")
        return Submission(signature, created=True)


# Staff read a signature's notes in the queue: the first few near records by
# name, and whether there are more (a common name has hundreds of namesakes).
NEAR_NOTES = 3


def _individual_for(submitted: Individual) -> tuple[Individual | None, list[str]]:
    """The individual on file that `submitted` is (by `signatories.identity`), if any; notes for staff."""
    matches = identity.individual_matches(submitted, fuzzy=False, near=NEAR_NOTES + 1, near_when_found=False)
    if matches and matches[0].same:
        return matches[0].record, []
    return None, _near_notes(matches)


def _organization_for(submitted: Organization) -> tuple[Organization | None, list[str]]:
    """
    The organization on file that `submitted` is (by `signatories.identity`),
    if any; notes for staff. Called inside the write transaction.
    """
    if connection.vendor == "postgresql":
        # Nothing unique in the table stops two simultaneous first signatures
        # of one new organization from creating it twice; this lock, held
        # until commit, makes them take turns. (SQLite writes one at a time.)
        with connection.cursor() as cursor:
            key = int.from_bytes(hashlib.sha256(submitted.name_key.encode()).digest()[:8], "big", signed=True)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
    matches = identity.organization_matches(submitted, fuzzy=False)
    if matches and matches[0].same:
        match = matches[0]
        notes = []
        if identity.SAME_ORGANIZATION_NAME not in match.reasons:
            notes.append(
                f"Submitted as “{submitted.display_name}”; signed for organization #{match.record.pk} "
                f"“{match.record.display_name}”: {match.reason}."
            )
        return match.record, notes
    return None, _near_notes(matches)


def _inserted(submitted: Individual | Organization) -> bool:
    """
    Saves a new signatory; False when the database refuses it (its mailbox was
    just taken), and the transaction is then rolled back when it ends.
    """
    try:
        with transaction.atomic(savepoint=False):
            submitted.save(force_insert=True)
    except IntegrityError:
        return False
    return True


def _near_notes(matches: list[identity.Match]) -> list[str]:
    notes = [_near_note(match) for match in matches[:NEAR_NOTES]]
    if len(matches) > NEAR_NOTES:
        notes.append("… and more with the same or a similar name.")
    return notes


def _near_note(match: identity.Match) -> str:
    record = match.record
    country = f" ({record.country.name})" if record.country else ""
    kind = "organization" if isinstance(record, Organization) else "individual"
    return f"Possible duplicate of {kind} #{record.pk} “{record.display_name}”{country}: {match.reason}."


def _own_live_signature(letter: Letter, signatory, email: str) -> Signature | None:
    """
    The signature this signer already has on the letter: the person's live one,
    or the claim on the organization sent from the same mailbox.
    """
    live = Signature.objects.filter(letter=letter, withdrawn_at__isnull=True, erased_at__isnull=True).exclude(
        status=Signature.Status.REJECTED
    )
    if isinstance(signatory, Individual):
        signature = live.filter(individual=signatory).first()
        if signature is not None:
            signature.individual = signatory  # in hand: not read again
        return signature
    return live.filter(organization=signatory, contact_mailbox=canonical_email(email)).order_by("pk").first()


def _submitted_again(existing: Signature, *, entry: dict, email: str, address_proven: bool = False) -> None:
    """The same signer, from the same address, submitted the form again for a signature they have."""
    # What a claimant nobody vouched for typed acts on their own unlisted entry
    # only: a change they may not make is not proposed, and the form says
    # nothing about who else speaks for the record.
    correction = None
    if correction_allowed(existing):
        correction = lifecycle.correction_propose(signature=existing, entry=entry, confirmed=address_proven)
    if address_proven or not _repeat_mail_allowed(existing, email):
        return
    if correction is not None:
        # Their own link: the first one still publishes what was first submitted.
        signature_email_enqueue(signature_id=existing.pk, kind="correction", correction_id=correction.pk)
    elif existing.status == Signature.Status.PENDING:
        # Most often the first message was lost or the link expired.
        signature_email_enqueue(signature_id=existing.pk, kind="confirm")
    else:
        signature_email_enqueue(signature_id=existing.pk, kind="already-signed")


def _validate(signatory: Individual | Organization) -> None:
    """full_clean() without the database, and without the slow scan of 250 countries."""
    signatory.full_clean(exclude=["country"], validate_unique=False, validate_constraints=False)
    if signatory.country and signatory.country not in countries:
        raise ValidationError({"country": f"“{signatory.country}” is not a country code."})
    signatory.refresh_derived_fields()


def signer_withdraw(*, signature: Signature, reason: str = "") -> Signature:
    """The signer withdraws on their page: off the list from now on, with a receipt by e-mail."""
    withdrawn_before = signature.withdrawn_at
    signature = lifecycle.signature_withdraw(signature=signature, reason=reason)
    if withdrawn_before is None:
        signature_email_enqueue(signature_id=signature.pk, kind="withdrawn")
    return signature


def confirmation_resend(*, signature: Signature) -> bool:
    """
    Send a new confirmation link for `signature` (for staff after a mail
    failure, and for signers whose link expired). Returns False, sending
    nothing, when there is nothing to confirm: the signature is already
    confirmed, rejected or withdrawn, or the letter no longer accepts signatures.
    """
    if signature.status != Signature.Status.PENDING or signature.withdrawn_at or signature.erased_at:
        return False
    if not signature.letter.is_accepting_signatures():
        return False
    signature_email_enqueue(signature_id=signature.pk, kind="confirm")
    return True


def confirmation_resend_for_email(*, letter: Letter, email: str) -> bool:
    """
    A signer lost the confirmation e-mail: send `email` one message with a new
    link for each unconfirmed signature of that mailbox on `letter` (its own,
    or those it sent for organizations). The caller shows the same page either
    way, so the form never tells whether an address signed.
    """
    if not letter.is_accepting_signatures():
        return False
    canonical = canonical_email(email)
    if not canonical:
        return False
    candidates = Signature.objects.filter(
        Q(individual__canonical_email=canonical) | Q(organization__isnull=False, contact_mailbox=canonical),
        letter=letter,
        status=Signature.Status.PENDING,
        withdrawn_at__isnull=True,
        erased_at__isnull=True,
    ).order_by("pk")
    pending = [signature for signature in candidates[:10] if _repeat_mail_allowed(signature, email)]
    if not pending:
        return False
    enqueue = partial(
        send_links_email.enqueue,
        letter_id=letter.pk,
        signature_ids=[signature.pk for signature in pending],
    )
    transaction.on_commit(enqueue, robust=True)
    return True


def _repeat_mail_allowed(signature: Signature, email: str) -> bool:
    """
    At most one repeated message (a new link, "already signed") per signature
    and address every SIGNUP_REPEAT_MAIL_INTERVAL seconds: whoever knows
    someone's address cannot flood their inbox through the form.
    """
    key = f"signup-repeat-mail:{signature.pk}:{mailbox_digest(email)}"
    try:
        return cache.add(key, 1, timeout=settings.SIGNUP_REPEAT_MAIL_INTERVAL)
    except CACHE_ERRORS:
        # The cache is out of reach: remembered in this process meanwhile.
        logger.warning("Repeat mail remembered in this process only: the cache is unavailable", exc_info=True)
        return process_counters.add(key, time.time() + settings.SIGNUP_REPEAT_MAIL_INTERVAL)


def signature_email_enqueue(
    *, signature_id: int, kind: str, to: str = "", correction_id: int | None = None
) -> None:
    """
    Queue the e-mail `kind` ("confirm", "correction", "already-signed", "withdrawn"; see
    `letters.signing.tasks.send_signature_email`) for when the current transaction
    commits, so a rolled-back submission sends nothing and the request never
    waits for the mail server. `to` overrides the signature's contact address.
    """
    extra = {"correction_id": correction_id} if correction_id else {}
    enqueue = partial(send_signature_email.enqueue, signature_id=signature_id, kind=kind, to=to, **extra)
    if (
        isinstance(send_signature_email.get_backend(), DatabaseBackend)
        and transaction.get_connection().in_atomic_block
    ):
        # The queue is a table of this database: the task row commits or rolls
        # back with the signature, so no worker sees it before the commit, and
        # a crash just after the commit cannot lose it (nor costs SQLite a
        # second write transaction per signature).
        enqueue()
    else:
        # robust: a queue that cannot be reached is logged; the signature,
        # already committed, stays pending and staff can resend.
        transaction.on_commit(enqueue, robust=True)

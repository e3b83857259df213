"""
Signing a letter: storing a submission, confirming it by e-mail, withdrawing it,
and the e-mails that go with each step.

Public functions for other parts of the project (the staff admin calls these):

- `confirmation_resend(signature=...)` sends a new confirmation link to a
  pending signature's address (after a mail failure, or when a signer asks).
- `signature_email_enqueue(signature_id=..., kind=...)` queues any of the
  signer e-mails of `letters.tasks` once the current transaction commits.
"""

import dataclasses
import hashlib
import hmac
import logging
import unicodedata
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django_countries import countries
from django_tasks_db.backend import DatabaseBackend

from signatories.models import Individual, Organization
from signatories.normalize import canonical_email, clean_text

from .models import Letter, Signature

logger = logging.getLogger(__name__)

INDIVIDUAL = "individual"
ORGANIZATION = "organization"
# A signature's related rows, which its writers already hold: validating them
# would cost a query each on the busiest path.
RELATED = ["letter", "individual", "organization", "approved_by"]


class SigningClosed(Exception):
    """The letter does not accept signatures (draft, closed, not yet open, or not of this kind)."""


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
) -> Submission:
    """
    Store a submission of the public form and queue the e-mail that follows.

    `name` is the signer's own name: the printed name of an individual, the
    private representative of an organization. A signatory that already signed
    the letter never gets a second signature — even when two requests race, the
    database's unique constraints decide — and the address gets an e-mail
    instead (a new confirmation link while the first is unconfirmed).
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
        submitted = Individual(name=name, title=title, country=country, email=email.strip())
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
    )
    # The model's constraints are checked by the database on insert (a query
    # each here would also race), and the related rows are in hand.
    signature.full_clean(exclude=RELATED, validate_unique=False, validate_constraints=False)
    with transaction.atomic():
        if kind == INDIVIDUAL:
            signature.individual, notes, new_signatory = _individual_for_signature(submitted)
        else:
            signature.organization, notes, new_signatory = _organization_for_signature(submitted)
        signature.notes = "\n".join(notes)
        existing = _insert_unless_signed(signature, new_signatory=new_signatory)
        if existing is None:
            signature_email_enqueue(signature_id=signature.pk, kind="confirm")
            return Submission(signature, created=True)
        _signed_again(existing, email=signature.contact_email)
        return Submission(existing, created=False)


def _insert_unless_signed(signature: Signature, *, new_signatory: bool) -> Signature | None:
    """Insert `signature`, or return the signature its signatory already has on the letter."""
    signatory = {"individual": signature.individual} if signature.individual else {}
    signatory = signatory or {"organization": signature.organization}
    already = Signature.objects.filter(letter=signature.letter, **signatory)
    if not new_signatory and (existing := already.first()):
        return existing
    try:
        # A savepoint, so the outer transaction survives losing a race.
        with transaction.atomic():
            signature.save(force_insert=True)
    except IntegrityError:
        # Another request inserted the same signatory's signature since we
        # looked: the unique constraint refused ours. Re-read theirs.
        existing = already.first()
        if existing is None:
            raise
        return existing
    return None


def _signed_again(existing: Signature, *, email: str) -> None:
    """Someone submitted the form for a signatory that has a signature on the letter already."""
    if not _repeat_mail_allowed(existing, email):
        return
    same_mailbox = canonical_email(existing.contact_email) == canonical_email(email)
    if existing.status == Signature.Status.PENDING and existing.withdrawn_at is None and same_mailbox:
        # Most often the first message was lost or the link expired.
        signature_email_enqueue(signature_id=existing.pk, kind="confirm")
    else:
        signature_email_enqueue(signature_id=existing.pk, kind="already-signed", to=email)


def _validate(signatory: Individual | Organization) -> None:
    """full_clean() without the database, and without the slow scan of 250 countries."""
    signatory.full_clean(exclude=["country"], validate_unique=False, validate_constraints=False)
    if signatory.country and signatory.country not in countries:
        raise ValidationError({"country": f"“{signatory.country}” is not a country code."})
    signatory.refresh_derived_fields()


def _individual_for_signature(submitted: Individual) -> tuple[Individual, list[str], bool]:
    """The individual with the submitted mailbox, created if new; notes for staff; whether it is new."""
    individual = Individual.objects.filter(canonical_email=submitted.canonical_email).first()
    if individual is None:
        try:
            with transaction.atomic():
                submitted.save(force_insert=True)
            return submitted, [], True
        except IntegrityError:
            # Two first signatures from one mailbox at the same moment.
            individual = Individual.objects.get(canonical_email=submitted.canonical_email)

    if (individual.name, individual.title, individual.country) == (
        submitted.name,
        submitted.title,
        submitted.country,
    ):
        return individual, [], False
    vetted = individual.signatures.exclude(status=Signature.Status.PENDING, source=Signature.Source.FORM)
    if not vetted.exists():
        # Nobody has confirmed or vetted this record yet (a typo corrected by
        # signing again, or someone else who used this address): the latest
        # submission wins, and the mailbox's owner confirms what is printed.
        individual.name, individual.title, individual.country = (
            submitted.name,
            submitted.title,
            submitted.country,
        )
        individual.save(update_fields=["name", "title", "country", "updated_at"])
        return individual, [], False
    # A confirmed record is not changed by an unconfirmed form: staff decide.
    return (
        individual,
        [
            f"Submitted as “{submitted.name}”"
            + (f", “{submitted.title}”" if submitted.title else "")
            + (f", {submitted.country}" if submitted.country else "")
            + f"; the individual on file (#{individual.pk}) is “{individual.name}”"
            + (f", “{individual.title}”" if individual.title else "")
            + (f", {individual.country}" if individual.country else "")
            + "."
        ],
        False,
    )


def _organization_for_signature(submitted: Organization) -> tuple[Organization, list[str], bool]:
    """
    The organization a submission names: an existing one with the same name
    (ignoring case, accents, punctuation, "&"/"and"), or with the same acronym
    in the same country; otherwise a new one. Near matches become notes for
    staff, who merge duplicates.
    """
    if connection.vendor == "postgresql":
        # Nothing unique in the table stops two simultaneous first signatures
        # of one new organization from creating it twice; this lock, held
        # until commit, makes them take turns. (SQLite writes one at a time.)
        with connection.cursor() as cursor:
            key = int.from_bytes(hashlib.sha256(submitted.name_key.encode()).digest()[:8], "big", signed=True)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])

    same = Q(name_key=submitted.name_key)
    if submitted.acronym and submitted.country:
        same |= Q(acronym_lower=submitted.acronym.lower(), country=submitted.country)
    matches = list(Organization.objects.alias(acronym_lower=Lower("acronym")).filter(same).order_by("pk")[:5])
    by_name = [org for org in matches if org.name_key == submitted.name_key]
    if by_name or matches:
        organization = (by_name or matches)[0]
        notes = []
        if not by_name:
            notes.append(
                f"Submitted as “{submitted.display_name}”; signed for organization #{organization.pk} "
                f"“{organization.display_name}”, which has the same acronym and country."
            )
        return organization, notes, False

    submitted.save(force_insert=True)
    return (
        submitted,
        [
            f"Possible duplicate of organization #{org.pk} “{org.display_name}”"
            + (f" ({org.country.name})" if org.country else "")
            + f": {reason}."
            for org, reason in _organization_near_matches(submitted)
        ],
        True,
    )


def _organization_near_matches(organization: Organization) -> list[tuple[Organization, str]]:
    """Organizations that are probably the same one under another spelling, with why."""
    key = organization.name_key
    acronym = organization.acronym.lower()
    variants = {key.removeprefix("the "), f"the {key.removeprefix('the ')}"} - {key}
    near = Q(name_key__in=variants) | Q(acronym_lower=key)
    if acronym:
        near |= Q(acronym_lower=acronym) | Q(name_key=acronym)
    candidates = (
        Organization.objects.alias(acronym_lower=Lower("acronym"))
        .filter(near)
        .exclude(pk=organization.pk)
        .order_by("pk")[:5]
    )
    found = []
    for org in candidates:
        if org.name_key in variants:
            reason = "the same name but for “The”"
        elif acronym and org.acronym.lower() == acronym:
            reason = "the same acronym"
        else:
            reason = "one's name is the other's acronym"
        found.append((org, reason))
    return found


def signature_confirm(*, signature: Signature) -> Signature:
    """
    The signer opened the confirmation link. Confirms a pending signature —
    `confirmed_at` and `signed_at` now — and approves it unless it waits for
    staff (organizations always do; individuals when the letter says so).
    Opening the link again, or after a withdrawal or rejection, changes nothing.
    Raises SigningClosed when the letter closed before the signer confirmed.
    """
    with transaction.atomic():
        signature = Signature.objects.select_for_update().select_related("letter").get(pk=signature.pk)
        if signature.status != Signature.Status.PENDING or signature.withdrawn_at is not None:
            return signature
        letter = signature.letter
        if not letter.is_accepting_signatures():
            raise SigningClosed("The letter closed to new signatures before this one was confirmed.")
        now = timezone.now()
        signature.confirmed_at = now
        # A web signature is valid from the moment its owner confirms it.
        signature.signed_at = now
        if signature.is_organization or letter.requires_approval:
            signature.status = Signature.Status.CONFIRMED
        else:
            signature.status = Signature.Status.APPROVED
            signature.approved_at = now
        signature.full_clean(exclude=RELATED, validate_unique=False, validate_constraints=False)
        signature.save(update_fields=["status", "confirmed_at", "signed_at", "approved_at", "updated_at"])
    return signature


def signature_withdraw(*, signature: Signature, reason: str = "") -> Signature:
    """
    The signer withdraws: `withdrawn_at` is now. The signature stays on the
    rosters of the days before (PRODUCT.md, "as of"); withdrawing twice keeps
    the first date. Sends a receipt.
    """
    with transaction.atomic():
        signature = Signature.objects.select_for_update().get(pk=signature.pk)
        if signature.withdrawn_at is not None:
            return signature
        signature.withdrawn_at = timezone.now()
        # Line breaks become spaces; other control characters (NUL…) go.
        reason = "".join(char for char in clean_text(reason) if unicodedata.category(char) != "Cc")
        signature.withdrawal_reason = reason[:500]
        signature.full_clean(exclude=RELATED, validate_unique=False, validate_constraints=False)
        signature.save(update_fields=["withdrawn_at", "withdrawal_reason", "updated_at"])
        signature_email_enqueue(signature_id=signature.pk, kind="withdrawn")
    return signature


def confirmation_resend(*, signature: Signature) -> bool:
    """
    Send a new confirmation link for `signature` (for staff after a mail
    failure, and for signers whose link expired). Returns False, sending
    nothing, when there is nothing to confirm: the signature is already
    confirmed, rejected or withdrawn, or the letter no longer accepts signatures.
    """
    if signature.status != Signature.Status.PENDING or signature.withdrawn_at is not None:
        return False
    if not signature.letter.is_accepting_signatures():
        return False
    signature_email_enqueue(signature_id=signature.pk, kind="confirm")
    return True


def confirmation_resend_for_email(*, letter: Letter, email: str) -> bool:
    """
    A signer lost the confirmation e-mail: send a new link to `email` if that
    mailbox has an unconfirmed signature on `letter` (its own, or one it sent
    for an organization). The caller shows the same page either way, so the
    form never tells whether an address signed.
    """
    canonical = canonical_email(email)
    candidates = Signature.objects.select_related("letter").filter(
        Q(individual__canonical_email=canonical)
        | Q(organization__isnull=False, contact_email__iexact=email.strip()),
        letter=letter,
        status=Signature.Status.PENDING,
        withdrawn_at__isnull=True,
    )
    sent = False
    for signature in candidates[:10]:
        if _repeat_mail_allowed(signature, email):
            sent = confirmation_resend(signature=signature) or sent
    return sent


def _repeat_mail_allowed(signature: Signature, email: str) -> bool:
    """
    At most one repeated message (a new link, "already signed") per signature
    and address every SIGNUP_REPEAT_MAIL_INTERVAL seconds: whoever knows
    someone's address cannot flood their inbox through the form.
    """
    mailbox = hashlib.sha256(canonical_email(email).encode()).hexdigest()[:32]
    key = f"signup-repeat-mail:{signature.pk}:{mailbox}"
    return cache.add(key, 1, timeout=settings.SIGNUP_REPEAT_MAIL_INTERVAL)


def signature_email_enqueue(*, signature_id: int, kind: str, to: str = "") -> None:
    """
    Queue the e-mail `kind` ("confirm", "already-signed", "withdrawn"; see
    `letters.tasks.send_signature_email`) for when the current transaction
    commits, so a rolled-back submission sends nothing and the request never
    waits for the mail server. `to` overrides the signature's contact address.
    """
    from .tasks import send_signature_email  # the task module imports this one

    enqueue = partial(send_signature_email.enqueue, signature_id=signature_id, kind=kind, to=to)
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

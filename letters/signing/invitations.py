"""
Invitations to sign a letter (docs/design.md, "The sign-on period"): staff pick
partners from the address book, each gets a personal link
(/invitations/<token>/) by e-mail through the task queue, in their language
when known, capped per address like every message (letters/signing/mailcaps.py),
never to an address on the suppression list. Signing through the link needs no
confirmation e-mail: the address is the one staff chose. The signature is made
by `letters.signing.services.signature_submit` like any other, and goes
through the lifecycle's rules (staff still vet it where the letter requires).

No tracking pixel, no open tracking: a message is "sent" once the mail server
took it, and "answered" once its link signed or declined.
"""

import dataclasses
import logging
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from letters import lifecycle
from letters.languages import interface_language
from letters.models import Invitation, Letter, Signature, Suppression, invitation_token_digest
from letters.signing import services
from letters.signing.mailcaps import mail_allowed, mail_counted
from letters.signing.tasks import letter_title, send_message, subject_title
from signatories.models import Individual, Organization

logger = logging.getLogger(__name__)

# A token of ours is 43 characters (secrets.token_urlsafe(32)); anything longer is no token.
TOKEN_MAX_LENGTH = 64


@dataclasses.dataclass(frozen=True)
class InvitedOutcome:
    invited: int = 0
    suppressed: int = 0
    already: int = 0
    without_address: int = 0


def contact_address(signatory: Individual | Organization) -> str:
    """
    Where an invitation to `signatory` goes: the address on its record (a
    person's, an organization's contact), else the one given with its latest
    signature that agreed to be contacted.
    """
    own = signatory.email if isinstance(signatory, Individual) else signatory.contact_email
    if own.strip():
        return own.strip()
    if hasattr(signatory, "consented_address"):  # read with the address book's query
        return signatory.consented_address or ""
    return (
        _consented_addresses(_signatures_of(signatory)).values_list("contact_email", flat=True).first() or ""
    )


def _consented_addresses(signatures: QuerySet) -> QuerySet:
    """The addresses given with `signatures` that agreed to be contacted, the latest first."""
    consented = signatures.filter(contact_consent=True, erased_at__isnull=True)
    return consented.exclude(contact_email="").order_by("-submitted_at")


def _signatures_of(signatory: Individual | Organization) -> QuerySet:
    field = "individual" if isinstance(signatory, Individual) else "organization"
    return Signature.objects.filter(**{field: signatory})


def address_book(model: type[Individual | Organization], *, signed: Letter | None = None, country: str = ""):
    """
    The organizations or individuals (`model`) staff may invite: those who
    agreed to be contacted when they signed any letter (`contact_consent`),
    those staff entered or imported as partners with a contact address (on
    file with no signature of their own), and those invited before. Filtered
    by a letter they are listed on (`signed`) and a country.
    """
    field = "individual" if model is Individual else "organization"
    address = "email" if model is Individual else "contact_email"
    theirs = Signature.objects.filter(**{field: OuterRef("pk")})
    records = model.objects.filter(
        Exists(theirs.filter(contact_consent=True, erased_at__isnull=True))
        | (~Exists(theirs) & ~Q(**{address: ""}))
        | Exists(Invitation.objects.filter(**{field: OuterRef("pk")}))
    )
    if model is Individual:
        records = records.filter(forgotten_at__isnull=True)
    if signed is not None:
        listed = theirs.filter(letter=signed, status=Signature.Status.APPROVED, withdrawn_at__isnull=True)
        records = records.filter(Exists(listed))
    if country:
        records = records.filter(country=country)
    latest = _consented_addresses(theirs).values("contact_email")[:1]
    return records.annotate(consented_address=Subquery(latest)).order_by("collation_key", "pk")


def known_language(signatory: Individual | Organization) -> str:
    """The language the signatory last signed a letter in, if any: their invitation comes in it."""
    signatures = _signatures_of(signatory).exclude(language="")
    return signatures.order_by("-submitted_at").values_list("language", flat=True).first() or ""


def invitations_create(
    *, letter: Letter, signatories: list[Individual | Organization], user=None
) -> InvitedOutcome:
    """
    Invite each of `signatories` to sign `letter` and queue the e-mails. Skips
    those without an address, those whose address asked for no invitations
    (the suppression list) and those already invited to this letter.
    """
    counts = dict.fromkeys(("invited", "suppressed", "already", "without_address"), 0)
    for signatory in signatories:
        email = contact_address(signatory)
        if not email:
            counts["without_address"] += 1
        elif Suppression.objects.suppresses(email):
            counts["suppressed"] += 1
        elif _invited(letter, signatory, email, user):
            counts["invited"] += 1
        else:
            counts["already"] += 1
    return InvitedOutcome(**counts)


def _invited(letter: Letter, signatory: Individual | Organization, email: str, user) -> bool:
    field = "individual" if isinstance(signatory, Individual) else "organization"
    invitation = Invitation(letter=letter, email=email, language=known_language(signatory), created_by=user)
    setattr(invitation, field, signatory)
    try:
        with transaction.atomic():
            invitation.save()  # one per mailbox and letter: the database says if it was invited
            invitation_enqueue(invitation_id=invitation.pk)
    except IntegrityError:
        return False
    return True


def invitation_enqueue(*, invitation_id: int, reminder: bool = False) -> None:
    """Queue the invitation's e-mail (or its reminder) for when the current transaction commits."""
    enqueue = partial(send_invitation.enqueue, invitation_id=invitation_id, reminder=reminder)
    transaction.on_commit(enqueue, robust=True)


def invitations_remind(*, invitations: QuerySet) -> int:
    """
    Remind those of `invitations` who have not answered: at most once per
    invitation in three days (`InvitationQuerySet.remindable`), however often
    staff press the button. Returns how many reminders were queued.
    """
    now = timezone.now()
    with transaction.atomic():
        ids = list(invitations.remindable(now).select_for_update().values_list("pk", flat=True))
        Invitation.objects.filter(pk__in=ids).update(reminded_at=now)
        for invitation_id in ids:
            invitation_enqueue(invitation_id=invitation_id, reminder=True)
    return len(ids)


@task
def send_invitation(*, invitation_id: int, reminder: bool = False, attempt: int = 0) -> None:
    """
    Send an invitation (or its reminder). Nothing goes to an address on the
    suppression list, to one that answered already, or past the address's
    hourly cap; a mail server that is down is tried again later, as for every
    signer e-mail (letters.signing.tasks). Log lines name the invitation, never
    its address or token.
    """
    invitation = Invitation.objects.select_related("letter").filter(pk=invitation_id).first()
    what = f"{'the reminder' if reminder else 'the invitation'} {invitation_id}"
    if invitation is None or invitation.answer:
        logger.info("Invitation %s is gone or answered; %s not sent", invitation_id, what)
        return
    if Suppression.objects.suppresses(invitation.email):
        logger.info("The address of invitation %s asked for no invitations; not sent", invitation_id)
        return
    if not mail_allowed(invitation.email):
        logger.warning("Mail cap of the address reached; %s was not sent", what)
        return
    message = invitation_email(invitation, reminder=reminder)
    arguments = {"invitation_id": invitation_id, "reminder": reminder}
    if send_message(message, what, again=send_invitation, arguments=arguments, attempt=attempt):
        mail_counted(invitation.email)
        field = "reminded_at" if reminder else "sent_at"
        Invitation.objects.filter(pk=invitation_id).update(**{field: timezone.now()})
        logger.info("Sent %s", what)


def invitation_language(invitation: Invitation) -> str:
    return interface_language(invitation.language or invitation.letter.language)


def invitation_url(invitation: Invitation, name: str = "letters:invitation") -> str:
    language = invitation_language(invitation)
    return f"{settings.SITE_URL}{reverse(name, args=[invitation.token])}?lang={language}"


def invitation_email(invitation: Invitation, *, reminder: bool = False) -> EmailMultiAlternatives:
    """The invitation in the recipient's language: the letter, the deadline, the link, the way out."""
    language = invitation_language(invitation)
    with translation.override(language):
        letter = invitation.letter
        title = letter_title(letter, language)
        context = {
            "invitation": invitation,
            "letter": letter,
            "letter_title": title,
            "signatory": invitation.signatory,
            "reminder": reminder,
            "invitation_url": invitation_url(invitation),
            "stop_url": invitation_url(invitation, "letters:invitation_stop"),
        }
        subject = (
            gettext("Reminder: will you sign “{title}”?") if reminder else gettext("Will you sign “{title}”?")
        )
        message = EmailMultiAlternatives(
            subject=subject.format(title=subject_title(title)),
            body=render_to_string("letters/email/invitation.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[invitation.email],
        )
        message.attach_alternative(render_to_string("letters/email/invitation.html", context), "text/html")
    return message


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation of `token`, compared in constant time; None for any other string."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    invitation = (
        Invitation.objects.select_related("letter", "individual", "organization", "signature")
        .filter(token_digest=invitation_token_digest(token))
        .first()
    )
    return invitation if invitation is not None and invitation.token_matches(token) else None


def invitation_kind(invitation: Invitation) -> str:
    return services.INDIVIDUAL if invitation.individual_id else services.ORGANIZATION


def invitation_sign(
    *, invitation: Invitation, ip_address: str = "", language: str = "", **entry
) -> Signature:
    """
    The invited signer sent the form on their invitation's page: the
    signature is made as every signature is (`services.signature_submit`),
    from the address staff chose, so it is confirmed at once, without a
    second e-mail; it waits for staff where the letter requires approval.
    `entry`: the form's fields (`SignatureForm.service_arguments`).
    Raises SigningClosed past the deadline, ValidationError for a bad entry.
    """
    entry.pop("email", None)  # the address is the invitation's, whatever was sent
    with transaction.atomic():
        submission = services.signature_submit(
            letter=invitation.letter,
            kind=invitation_kind(invitation),
            email=invitation.email,
            ip_address=ip_address,
            language=language or invitation.language,
            address_proven=True,
            **entry,
        )
        signature = submission.signature
        if signature.status == Signature.Status.PENDING:
            signature = lifecycle.signature_confirm(signature=signature)
        signature_mark_invited(invitation=invitation, signature=signature)
    return signature


def signature_mark_invited(*, invitation: Invitation, signature: Signature) -> None:
    """
    The one place that records a signature as made through an invitation: the
    invitation answers with it, and an organization's signature is verified by
    it (docs/design.md, "Who vouches for a name").
    """
    lifecycle.signature_verified_by_invitation(signature=signature)
    invitation.signature = signature
    invitation.declined_at = None
    invitation.save(update_fields=["signature", "declined_at"])


def invitation_decline(*, invitation: Invitation) -> None:
    """ "Decline": one button; an invitation already answered stays as it is."""
    if invitation.answer:
        return
    invitation.declined_at = timezone.now()
    invitation.save(update_fields=["declined_at"])


def invitations_stop(*, invitation: Invitation) -> None:
    """No invitation to this address for any future letter (the suppression list), and no more reminders."""
    Suppression.add(invitation.email)

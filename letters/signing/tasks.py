"""
E-mails to signers, sent by django.tasks workers so that a slow or absent mail
server never holds up the request. Queue them with
`letters.signing.services.signature_email_enqueue`, which waits for the commit.
"""

import contextlib
import contextvars
import datetime as dt
import logging
import smtplib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import DatabaseError, InterfaceError
from django.db.models import Q
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from letters import lifecycle
from letters.languages import LetterVersions, interface_language
from letters.models import Correction, Dispute, Letter, Signature
from letters.signing.mailcaps import mail_allowed, mail_counted
from letters.signing.tokens import make_confirm_token, make_correction_token, make_manage_token
from signatories.normalize import canonical_email, clean_text

logger = logging.getLogger(__name__)

SUBJECTS = {
    "confirm": _("Please confirm your signature: {title}"),
    "correction": _("Please confirm the correction of your signature: {title}"),
    "already-signed": _("You have already signed: {title}"),
    "withdrawn": _("Your signature was withdrawn: {title}"),
}


# A mail server that is down or says "later" is tried again after
# settings.MAIL_RETRY_FIRST_SECONDS (30 s), then twice as long each time up to
# an hour, for settings.MAIL_RETRY_FOR_HOURS (26 hours) in all: longer than a
# night and a weekend morning without anyone on call.
RETRY_MAX_SECONDS = 3600


@task
def send_signature_email(
    *, signature_id: int, kind: str, to: str = "", correction_id: int | None = None, attempt: int = 0
) -> None:
    """
    Send the signer e-mail `kind` about a signature: "confirm" (the
    confirmation link), "correction" (the link that confirms a correction
    proposed through the form), "already-signed" (someone used the form again for a
    signatory already on file) or "withdrawn" (a receipt). Every message has a
    plain-text part and the link to the signer's page. A mail server that is
    down is tried again later (`attempt` counts the tries so far, see
    retry_delay); a failure for good is logged and raised, so the task backend
    records it; the signature stays as it was and staff can resend
    (`letters.signing.services.confirmation_resend`).
    """
    signatures = Signature.objects.select_related("letter", "individual", "organization")
    signature = signatures.filter(pk=signature_id).first()
    if signature is None:
        logger.warning("Signature %s is gone; its %s e-mail was not sent", signature_id, kind)
        return
    if signature.erased_at is not None:
        # The signer's address is deleted; what is left on file may be someone
        # else's (another contact of the organization).
        logger.info("Signature %s was erased; its %s e-mail was not sent", signature_id, kind)
        return
    if kind == "confirm" and signature.status != Signature.Status.PENDING:
        # Queued twice, or confirmed by the first link meanwhile.
        logger.info("Signature %s is already %s; no confirmation sent", signature_id, signature.status)
        return
    message = signature_email(signature, kind, to=to, correction_id=correction_id)
    if not mail_allowed(message.to[0]):
        logger.warning(
            "Mail cap of the address reached; the %s e-mail for signature %s was not sent", kind, signature_id
        )
        return
    arguments = {"signature_id": signature_id, "kind": kind, "to": to}
    if correction_id:
        arguments["correction_id"] = correction_id
    what = f"the {kind} e-mail for signature {signature_id}"
    if send_message(message, what, again=send_signature_email, arguments=arguments, attempt=attempt):
        mail_counted(message.to[0])
        logger.info("Sent the %s e-mail for signature %s", kind, signature_id)


# The mail connection the tasks of one worker batch share (shared_mail_connection), else None.
_shared_connection: contextvars.ContextVar = contextvars.ContextVar("shared_mail_connection", default=None)


@contextlib.contextmanager
def shared_mail_connection():
    """
    While open, the messages sent by this thread go over one connection to the
    mail server, opened at the first and closed at the end, instead of one
    each: a worker runs a batch of e-mail tasks inside it. Only for SMTP (a
    file backend keeps one file per message). A message that fails drops the
    connection; the next one opens a new one.
    """
    token = _shared_connection.set({})
    try:
        yield
    finally:
        _drop_shared_connection()
        _shared_connection.reset(token)


def _connection():
    """The batch's open SMTP connection, opened now if need be; None outside a batch or for other backends."""
    shared = _shared_connection.get()
    if shared is None:
        return None
    if "connection" not in shared:
        connection = mail.mailers.default
        if not isinstance(connection, SmtpBackend):
            shared["connection"] = None
            return None
        connection.open()
        shared["connection"] = connection
    return shared["connection"]


def _drop_shared_connection() -> None:
    shared = _shared_connection.get()
    connection = shared.pop("connection", None) if shared is not None else None
    if connection is not None:
        with contextlib.suppress(Exception):
            connection.close()


class MailNotSent(Exception):
    """A message was not sent. Says which and why, never to whom."""


def send_message(message: EmailMultiAlternatives, what: str, *, again, arguments: dict, attempt: int) -> bool:
    """
    Send `message`: True once the mail server accepted it. If the server is
    down or says "later", the task `again` is queued with `arguments` to run
    after retry_delay(attempt) and False returned (the task itself ends well:
    nothing failed for good). Otherwise, or after a day of trying, log and
    raise MailNotSent, so the task backend records the failure. The mail
    server's own error names the recipient (an SMTP refusal quotes the
    address) and would reach the log and the task's stored traceback: only
    its kind is kept.
    """
    try:
        connection = _connection()
        if connection is None:
            message.send()
        else:
            connection.send_messages([message])
    except Exception as error:
        _drop_shared_connection()
        kind = type(error).__name__
        delay = retry_delay(attempt) if _transient(error) else None
        try:
            later = delay is not None and _send_later(again, arguments, attempt, delay)
        except (DatabaseError, InterfaceError) as failure:
            raise failure from None  # not chained to the mail server's error, which may quote the address
        if later:
            logger.warning(
                "Could not send %s: %s; trying again in %g s (try %s)", what, kind, delay, attempt + 2
            )
            return False
        logger.error("Could not send %s: %s (after %s tries)", what, kind, attempt + 1)
        raise MailNotSent(f"Could not send {what}: {kind}") from None
    return True


def retry_delay(attempt: int) -> int | None:
    """
    Seconds to wait before the try after `attempt` failed ones (0: the first
    failed): MAIL_RETRY_FIRST_SECONDS, doubling up to an hour (or to the first
    wait, if longer); None once the waits so far add up to MAIL_RETRY_FOR_HOURS
    (give up).
    """
    first = settings.MAIL_RETRY_FIRST_SECONDS
    ceiling = max(first, RETRY_MAX_SECONDS)
    delays = [min(first * 2**n, ceiling) for n in range(min(attempt, 100) + 1)]
    if sum(delays[:-1]) >= settings.MAIL_RETRY_FOR_HOURS * 3600:
        return None
    return delays[-1]


def _transient(error: Exception) -> bool:
    """
    Whether trying again later may succeed: the server unreachable, timing
    out, hanging up or answering 4xx. A 5xx refusal of the address or of the
    message is final.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return 400 <= error.smtp_code < 500
    return isinstance(error, (smtplib.SMTPException, OSError))


def _send_later(again, arguments: dict, attempt: int, delay: float) -> bool:
    """
    Queues the task `again` to run in `delay` seconds; False if the queue
    cannot defer. A database error (the queue's database down, or its disk
    full) is raised: the worker gives this very task back to the queue, to be
    tried again once the database is back (letters/signing/worker.py), rather
    than recording it as failed.
    """
    if not again.get_backend().supports_defer:
        return False  # e.g. the immediate backend, which would try again at once
    try:
        run_after = timezone.now() + dt.timedelta(seconds=delay)
        again.using(run_after=run_after).enqueue(**arguments, attempt=attempt + 1)
    except (DatabaseError, InterfaceError):
        logger.warning("Could not queue the next try: the database failed; the task goes back to the queue")
        raise
    except Exception:
        logger.exception("Could not queue the next try")
        return False
    return True


def signature_email(
    signature: Signature, kind: str, *, to: str = "", correction_id: int | None = None
) -> EmailMultiAlternatives:
    """The message `kind` about `signature`, to `to` or the signature's address, in the signer's language."""
    if kind not in SUBJECTS:
        raise ValueError(f"Unknown signer e-mail {kind!r}")
    language = signer_language(signature)
    with translation.override(language):
        return _signature_email(signature, kind, to=to, correction_id=correction_id, language=language)


def signer_language(signature: Signature) -> str:
    """The language the signer signed in (Signature.language), else the letter's."""
    return interface_language(signature.language or signature.letter.language)


def letter_title(letter: Letter, language: str) -> str:
    """How a signer's e-mails name the letter: the title of its version in their language, else its own."""
    return LetterVersions(letter, language).text.title


def subject_title(title: str) -> str:
    """A subject is one line: whatever the letter's title holds, never a newline."""
    return Truncator(clean_text(title)).chars(120)


def _signature_email(
    signature: Signature, kind: str, *, to: str, correction_id: int | None, language: str
) -> EmailMultiAlternatives:
    letter = signature.letter
    title = letter_title(letter, language)
    address = signer_address(signature)
    # Someone else naming an organization that has signed learns no more than
    # that, and never gets the link that would withdraw its signature.
    own_signature = not to or canonical_email(to) == canonical_email(address)
    context = {
        "own_signature": own_signature,
        "signature": signature,
        "letter": letter,
        "letter_title": title,
        "signatory": signature.signatory,
        # Of the signature, or of the correction in a correction's e-mail.
        "needs_approval": (
            lifecycle.correction_needs_approval if kind == "correction" else lifecycle.needs_approval
        )(signature),
        "letter_url": f"{settings.SITE_URL}{letter.get_absolute_url()}?lang={language}",
        "confirm_url": signer_link("letters:confirm", make_confirm_token(signature.pk), language)
        if own_signature
        else "",
        "manage_url": signer_link("letters:manage", make_manage_token(signature.pk), language)
        if own_signature
        else "",
        "correction": _correction(signature, kind, correction_id),
        "correction_url": (
            signer_link("letters:confirm_correction", make_correction_token(correction_id), language)
            if correction_id
            else ""
        ),
        "confirm_days": max(1, settings.SIGNUP_CONFIRM_MAX_AGE // 86400),
    }
    subject = SUBJECTS[kind] if own_signature else _("Already on file: {title}")
    message = EmailMultiAlternatives(
        subject=str(subject).format(title=subject_title(title)),
        body=render_to_string(f"letters/email/{kind}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to or address],
    )
    message.attach_alternative(render_to_string(f"letters/email/{kind}.html", context), "text/html")
    return message


@task
def send_links_email(*, letter_id: int, signature_ids: list[int], attempt: int = 0) -> None:
    """
    One message with a new confirmation link for each of the pending
    signatures of one mailbox on a letter (the new-link page), however many
    there are; sent to the address on file of the first, in its signer's language.
    """
    letter = Letter.objects.filter(pk=letter_id).first()
    signatures = list(
        Signature.objects.select_related("letter", "individual", "organization")
        .filter(pk__in=signature_ids, letter_id=letter_id, status=Signature.Status.PENDING, erased_at=None)
        .order_by("pk")
    )
    if letter is None or not signatures:
        logger.info("No pending signature left; no new links sent for letter %s", letter_id)
        return
    to = signer_address(signatures[0])
    if not mail_allowed(to):
        logger.warning("Mail cap of the address reached; new links for letter %s were not sent", letter_id)
        return
    language = signer_language(signatures[0])
    with translation.override(language):
        message = _links_email(letter, signatures, to=to, language=language)
    arguments = {"letter_id": letter_id, "signature_ids": signature_ids}
    what = f"new links for letter {letter_id}"
    if send_message(message, what, again=send_links_email, arguments=arguments, attempt=attempt):
        mail_counted(to)
        logger.info("Sent %s new links for letter %s", len(signatures), letter_id)


def _links_email(letter, signatures: list[Signature], *, to: str, language: str) -> EmailMultiAlternatives:
    title = letter_title(letter, language)
    context = {
        "letter": letter,
        "letter_title": title,
        "letter_url": f"{settings.SITE_URL}{letter.get_absolute_url()}?lang={language}",
        "confirm_days": max(1, settings.SIGNUP_CONFIRM_MAX_AGE // 86400),
        "entries": [
            {
                "signature": signature,
                "signatory": signature.signatory,
                "confirm_url": signer_link("letters:confirm", make_confirm_token(signature.pk), language),
                "manage_url": signer_link("letters:manage", make_manage_token(signature.pk), language),
            }
            for signature in signatures
        ],
    }
    subject = ngettext("Your confirmation link: {title}", "Your confirmation links: {title}", len(signatures))
    message = EmailMultiAlternatives(
        subject=subject.format(title=subject_title(title)),
        body=render_to_string("letters/email/links.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(render_to_string("letters/email/links.html", context), "text/html")
    return message


def _correction(signature: Signature, kind: str, correction_id: int | None) -> Correction | None:
    """The correction a message is about: its own, or the entry submitted with a signature to confirm."""
    if correction_id:
        return signature.corrections.filter(pk=correction_id).first()
    if kind == "confirm":
        return signature.corrections.filter(with_signature=True, status=Correction.Status.PENDING).last()
    return None


def signer_link(name: str, token: str, language: str) -> str:
    """A link to the signer's pages, which open in the language of their e-mail."""
    return f"{settings.SITE_URL}{reverse(name, args=[token])}?lang={language}"


def signer_address(signature: Signature) -> str:
    if signature.contact_email:
        return signature.contact_email
    if signature.individual and signature.individual.email:
        return signature.individual.email
    if signature.organization and signature.organization.contact_email:
        return signature.organization.contact_email
    raise ValueError(f"Signature {signature.pk} has no e-mail address")


@task
def send_text_change_email(*, signature_id: int, version: int, attempt: int = 0) -> None:
    """
    After a material change to a letter's text (`lifecycle.letter_text_change`), ask a
    signer of an earlier version, in their language: what changed (a word diff), the
    organizers' note, and the link to their page, which keeps their name under the new
    text or withdraws it. Not sent once they answered, withdrew or were erased.
    """
    signature = Signature.objects.select_related("letter", "individual", "organization").filter(
        pk=signature_id
    )
    signature = signature.first()
    if signature is None or not lifecycle.needs_reconsent(signature):
        logger.info("Signature %s need not be asked about version %s; no e-mail", signature_id, version)
        return
    letter = signature.letter
    signed = lifecycle.letter_version(letter, signature.text_version or 1)
    new = lifecycle.letter_version(letter, version)
    if signed is None or new is None:
        return
    to = signer_address(signature)
    if not mail_allowed(to):
        logger.warning(
            "Mail cap of the address reached; no text change e-mail for signature %s", signature_id
        )
        return
    language = signer_language(signature)
    with translation.override(language):
        title = letter_title(letter, language)
        context = {
            "signature": signature,
            "signatory": signature.signatory,
            "letter": letter,
            "letter_title": title,
            "signed": signed,
            "version": new,
            "diff_text": lifecycle.diff_text(signed, new),
            "diff_html": lifecycle.diff_html(signed, new),
            "letter_url": f"{settings.SITE_URL}{letter.get_absolute_url()}?lang={language}",
            "versions_url": f"{settings.SITE_URL}{new.get_absolute_url()}",
            "manage_url": signer_link("letters:manage", make_manage_token(signature.pk), language),
        }
        subject = _("The text you signed has changed: {title}").format(title=subject_title(title))
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("letters/email/text-changed.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[to],
        )
        message.attach_alternative(render_to_string("letters/email/text-changed.html", context), "text/html")
    arguments = {"signature_id": signature_id, "version": version}
    what = f"the text change e-mail for signature {signature_id}"
    if send_message(message, what, again=send_text_change_email, arguments=arguments, attempt=attempt):
        mail_counted(to)
        logger.info("Sent the version %s e-mail for signature %s", version, signature_id)


@task
def send_dispute_notice(*, dispute_id: int, attempt: int = 0) -> int:
    """
    Tell the organizers at once that a reader disputes an entry of a list:
    the letter and a link to the dispute in the staff panel, never the entry's
    name, the reader's address or message (an e-mail leaves the staff panel).
    Returns how many organizers it was sent to; a mail server that is down is
    tried again later, as for signers' e-mails (`_send`).
    """
    dispute = Dispute.objects.select_related("letter").filter(pk=dispute_id).first()
    if dispute is None:
        return 0
    recipients = organizer_addresses()
    if not recipients:
        logger.warning("Dispute %s: no organizer with an e-mail address to tell", dispute_id)
        return 0
    link = settings.SITE_URL + reverse("admin:letters_dispute_change", args=[dispute.pk])
    context = {"dispute": dispute, "letter": dispute.letter, "link": link, "site_url": settings.SITE_URL}
    message = EmailMultiAlternatives(
        subject=f"A name disputed on “{Truncator(dispute.letter.title).chars(80)}”",
        body=render_to_string("letters/email/dispute_notice.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    what = f"the notice of dispute {dispute_id}"
    if not send_message(
        message, what, again=send_dispute_notice, arguments={"dispute_id": dispute_id}, attempt=attempt
    ):
        return 0
    logger.info("Dispute %s: told %s organizers", dispute_id, len(recipients))
    return len(recipients)


def organizer_addresses() -> list[str]:
    """The addresses of active staff with the Organizer role (superusers too): who hears of a dispute."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    users = users.filter(Q(groups__name="Organizer") | Q(is_superuser=True)).distinct()
    return sorted(users.values_list("email", flat=True))

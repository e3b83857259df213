"""
A signature's new contact address, typed by an Organizer (a signer wrote "my
address changed"), proves itself before it receives anything: it is kept
aside (`Signature.pending_contact_email`) and sent a link; only when its owner
follows the link does it become `contact_email`, which every link and receipt
goes to. A slip of the keyboard, or an Organizer's account in the wrong hands,
never sends a signer's links to a stranger.
"""

import logging

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from letters.lifecycle.rules import lock_one, log_action
from letters.models import Signature
from letters.signing import tasks
from letters.signing.mailcaps import mail_allowed, mail_counted, mailbox_digest
from signatories.normalize import clean_text

logger = logging.getLogger(__name__)

SALT = "letters.signature.address"

BadToken = signing.BadSignature
ExpiredToken = signing.SignatureExpired


def make_address_token(signature_id: int, address: str) -> str:
    """A link for this signature and this very address: a later address is not confirmed by it."""
    return signing.dumps({"s": signature_id, "a": mailbox_digest(address)}, salt=SALT)


def read_address_token(token: str) -> tuple[int, str]:
    """(signature id, the address's digest); expires like a confirmation link. Raises BadToken."""
    value = signing.loads(token, salt=SALT, max_age=settings.SIGNUP_CONFIRM_MAX_AGE)
    if not isinstance(value, dict) or type(value.get("s")) is not int or not isinstance(value.get("a"), str):
        raise BadToken("The token does not name a signature's address.")
    return value["s"], value["a"]


def address_change_request(*, signature: Signature, address: str, user=None) -> None:
    """
    Keep `address` aside as the signature's new contact address and send it
    the link that makes it so (after the commit). The current address stays
    the one every other e-mail goes to until then; asking again replaces the
    address waiting, whose earlier link then confirms nothing.
    """
    with transaction.atomic():
        signature = lock_one(signature)
        Signature.objects.filter(pk=signature.pk).update(pending_contact_email=address)
        log_action(user, [signature], "Asked the new contact address to confirm itself.")
        signature_id = signature.pk
        transaction.on_commit(lambda: send_address_email.enqueue(signature_id=signature_id))


def address_confirm(*, signature_id: int, digest: str) -> Signature | None:
    """
    The new address's owner pressed the button behind its link: it becomes the
    contact address. None when the link is not for the address waiting (a later
    one replaced it, it was confirmed already, or the signature was erased).
    """
    with transaction.atomic():
        signature = Signature.objects.select_for_update().filter(pk=signature_id).first()
        if signature is None or signature.erased_at is not None or not signature.pending_contact_email:
            return None
        if mailbox_digest(signature.pending_contact_email) != digest:
            return None
        signature.contact_email = signature.pending_contact_email
        signature.pending_contact_email = ""
        signature.save(update_fields=["contact_email", "pending_contact_email", "updated_at"])
    logger.info("Signature %s: its new contact address confirmed itself", signature.pk)
    return signature


@task
def send_address_email(*, signature_id: int, attempt: int = 0) -> None:
    """The link that makes the address waiting the signature's contact address, sent to that address only."""
    signature = (
        Signature.objects.select_related("letter", "individual", "organization")
        .filter(pk=signature_id)
        .first()
    )
    if signature is None or signature.erased_at is not None or not signature.pending_contact_email:
        logger.info("Signature %s has no address waiting; no address link sent", signature_id)
        return
    to = signature.pending_contact_email
    if not mail_allowed(to):
        logger.warning("Mail cap of the address reached; the address link for %s was not sent", signature_id)
        return
    language = tasks.signer_language(signature)
    with translation.override(language):
        message = address_email(signature, language)
    what = f"the address link for signature {signature_id}"
    arguments = {"signature_id": signature_id}
    if tasks.send_message(message, what, again=send_address_email, arguments=arguments, attempt=attempt):
        mail_counted(to)
        logger.info("Sent %s", what)


def address_email(signature: Signature, language: str) -> EmailMultiAlternatives:
    """
    Says no more than the letter's title: whoever owns an address typed by
    mistake learns neither the signer's name nor gets a link to their signature.
    """
    letter = signature.letter
    title = tasks.letter_title(letter, language)
    token = make_address_token(signature.pk, signature.pending_contact_email)
    context = {
        "letter": letter,
        "letter_title": title,
        "letter_url": f"{settings.SITE_URL}{letter.get_absolute_url()}?lang={language}",
        "address_url": f"{settings.SITE_URL}{reverse('letters:confirm_address', args=[token])}"
        f"?lang={language}",
        "confirm_days": max(1, settings.SIGNUP_CONFIRM_MAX_AGE // 86400),
    }
    subject = _("Please confirm your address for a signature: {title}").format(
        title=Truncator(clean_text(title)).chars(120)
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("letters/email/address.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[signature.pending_contact_email],
    )
    message.attach_alternative(render_to_string("letters/email/address.html", context), "text/html")
    return message

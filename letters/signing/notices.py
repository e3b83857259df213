"""
Notices to signers about what staff decided, sent by django.tasks workers like
the e-mails of `letters.signing.tasks` (whose helpers they use): for now "you
are on the list", once staff approve a signature. Queue it with
`approval_notice_enqueue`, which waits for the commit.
"""

import logging
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from letters.models import Signature
from letters.signing.mailcaps import mail_allowed, mail_counted
from letters.signing.tasks import (
    letter_title,
    send_message,
    signer_address,
    signer_language,
    signer_link,
    subject_title,
)
from letters.signing.tokens import make_manage_token

logger = logging.getLogger(__name__)


def approval_notice_enqueue(signature_ids: list[int]) -> None:
    """Queue "you are on the list" for each of `signature_ids`, once the current transaction commits."""
    for signature_id in signature_ids:
        transaction.on_commit(partial(send_approval_notice.enqueue, signature_id=signature_id), robust=True)


def has_address(signature: Signature) -> bool:
    try:
        return bool(signer_address(signature))
    except ValueError:
        return False


@task
def send_approval_notice(*, signature_id: int, attempt: int = 0) -> None:
    """
    Tell the signer, in their language, that staff approved their signature:
    their name is on the list (or counted without it, if they did not agree
    to be named). Nothing is sent for a signature approved no longer (withdrawn,
    rejected, erased meanwhile), without an address, or past the mailbox's cap.
    """
    signature = (
        Signature.objects.select_related("letter", "individual", "organization")
        .filter(pk=signature_id)
        .first()
    )
    if signature is None or signature.erased_at is not None:
        logger.info("Signature %s is gone or erased; no approval notice sent", signature_id)
        return
    if signature.status != Signature.Status.APPROVED or signature.withdrawn_at is not None:
        logger.info("Signature %s is no longer approved; no approval notice sent", signature_id)
        return
    if not has_address(signature):
        logger.info("Signature %s has no e-mail address; no approval notice sent", signature_id)
        return
    message = approval_notice(signature)
    if not mail_allowed(message.to[0]):
        logger.warning(
            "Mail cap of the address reached; the approval notice of signature %s was not sent", signature_id
        )
        return
    what = f"the approval notice of signature {signature_id}"
    arguments = {"signature_id": signature_id}
    if send_message(message, what, again=send_approval_notice, arguments=arguments, attempt=attempt):
        mail_counted(message.to[0])
        logger.info("Sent the approval notice of signature %s", signature_id)


def approval_notice(signature: Signature) -> EmailMultiAlternatives:
    language = signer_language(signature)
    letter = signature.letter
    with translation.override(language):
        title = letter_title(letter, language)
        context = {
            "signature": signature,
            "signatory": signature.signatory,
            "letter": letter,
            "letter_title": title,
            "letter_url": f"{settings.SITE_URL}{letter.get_absolute_url()}?lang={language}",
            "manage_url": signer_link("letters:manage", make_manage_token(signature.pk), language),
        }
        message = EmailMultiAlternatives(
            subject=_("You are on the list: {title}").format(title=subject_title(title)),
            body=render_to_string("letters/email/approved.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[signer_address(signature)],
        )
        message.attach_alternative(render_to_string("letters/email/approved.html", context), "text/html")
    return message

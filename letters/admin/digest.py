"""
The daily digest for organizers who asked for it (DigestSubscription): one
e-mail per open letter with what happened since the last digest — new
signatures, how many await approval, how many of those carry a warning — and
a link into the queue. Counts and links only: no signer's name or address
leaves the staff panel by e-mail.

`manage.py send_digest` (run daily from cron) queues one `send_digest` task per
subscriber; the task worker sends them.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from letters.lifecycle import moderation
from letters.lifecycle.moderation import bucket_q
from letters.models import DigestSubscription, Letter, Signature

logger = logging.getLogger(__name__)


@dataclass
class LetterDigest:
    letter: Letter
    new: int
    awaiting: int
    warnings: int
    queue_url: str

    @property
    def is_worth_sending(self) -> bool:
        return bool(self.new or self.awaiting)


def letter_digest(letter: Letter, *, since: dt.datetime) -> LetterDigest:
    signatures = Signature.objects.filter(letter=letter)
    awaiting = moderation.with_warnings(signatures.filter(bucket_q("awaiting")))
    warned = awaiting.filter(
        Q(warn_email=True)
        | Q(warn_organization=True)
        | Q(warn_ip__gte=moderation.IP_BURST_SIZE)
        | ~Q(notes="")
    )
    queue = reverse("admin:letters_signature_changelist") + "?" + urlencode({"letter": letter.pk})
    return LetterDigest(
        letter=letter,
        new=signatures.filter(submitted_at__gte=since).count(),
        awaiting=awaiting.count(),
        warnings=warned.count(),
        queue_url=settings.SITE_URL + queue,
    )


def enqueue_digests() -> int:
    """Queue one digest task per subscriber; returns how many."""
    subscriber_ids = list(
        DigestSubscription.objects.filter(user__is_active=True, user__is_staff=True)
        .exclude(user__email="")
        .values_list("user_id", flat=True)
    )
    for user_id in subscriber_ids:
        send_digest.enqueue(user_id=user_id)
    return len(subscriber_ids)


@task
def send_digest(*, user_id: int) -> int:
    """Send `user_id` the digest of each open letter with news; returns how many e-mails were sent."""
    subscription = DigestSubscription.objects.select_related("user").filter(user_id=user_id).first()
    if subscription is None or not subscription.user.is_active or not subscription.user.is_staff:
        return 0
    now = timezone.now()
    since = subscription.last_sent_at or now - dt.timedelta(days=1)
    sent = 0
    for letter in Letter.objects.with_status(Letter.Status.OPEN).order_by("title"):
        digest = letter_digest(letter, since=since)
        if not digest.is_worth_sending:
            continue
        context = {"digest": digest, "letter": letter, "since": since, "site_url": settings.SITE_URL}
        counts = f"{digest.new} new, {digest.awaiting} awaiting approval"
        EmailMessage(
            subject=f"Daily digest: {letter.title[:80]} — {counts}",
            body=render_to_string("letters/digest_email.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[subscription.user.email],
        ).send()
        sent += 1
    DigestSubscription.objects.filter(pk=subscription.pk).update(last_sent_at=now)
    logger.info("Sent %s digest e-mails to user %s", sent, user_id)
    return sent

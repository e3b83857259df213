"""
The staff panel's first page (staff.site.StaffAdminSite.index, which letters.admin registers it with): a
dashboard of letters. Each open letter with its signatures by status (awaiting approval
first, each count a link into that part of the queue), new signatures today
and this week, the last delivery and links to its outputs; circulating letters
with their sign-on deadline, publication moment and invitations (invited,
signed, declined, no answer); then closed letters and drafts; then how the
e-mails to signers are doing (letters/admin/mail_health.py). Four queries
whatever the number of letters (five with circulating ones).
"""

import datetime as dt
import functools
import operator
from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from letters.admin.guide import guide, guide_picture
from letters.admin.mail_health import mail_health
from letters.admin.times import local_time
from letters.lifecycle.moderation import BUCKETS, bucket_q
from letters.lifecycle.retention import letter_closed_at, letter_has_closed
from letters.models import (
    INVITATION_COUNTS,
    Delivery,
    DigestSubscription,
    Dispute,
    Invitation,
    Letter,
    Signature,
)


@dataclass
class Count_:
    key: str
    label: str
    count: int
    url: str


@dataclass
class LetterCard:
    letter: Letter
    counts: list[Count_]
    today: int = 0
    week: int = 0
    last_delivery: Delivery | None = None
    last_delivery_at: str = ""
    closed: bool = False
    closes_at: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)
    # Circulating letters: the sign-on deadline and the publication moment in the letter's
    # zone, and what became of its invitations (InvitationQuerySet.counts).
    sign_by: str = ""
    publish_at: str = ""
    invitations: dict[str, int] = field(default_factory=dict)


def queue_url(letter: Letter, bucket: str) -> str:
    return (
        reverse("admin:letters_signature_changelist")
        + "?"
        + urlencode({"letter": letter.pk, "queue": bucket})
    )


def dashboard(request: HttpRequest) -> dict:
    counts = {f"n_{key}": Count("signatures", filter=bucket_q(key, "signatures__")) for key in BUCKETS}
    letters = list(Letter.objects.annotate(**counts).order_by("closes_at", "title"))
    open_letters = [letter for letter in letters if letter.status == Letter.Status.OPEN]
    activity = _activity(open_letters)
    deliveries = _last_deliveries(letters)
    invited = _invitation_counts([letter for letter in letters if letter.status == Letter.Status.CIRCULATING])
    can_import = request.user.has_perm("letters.add_signature")

    cards = {status: [] for status in Letter.Status.values}
    now = timezone.now()
    for letter in letters:
        # Past its closing moment, an open letter is closed: what its page and the index say.
        status = Letter.Status.CLOSED if letter_has_closed(letter, now) else letter.status
        today, week = activity.get(letter.pk, (0, 0))
        delivery = deliveries.get(letter.pk)
        cards[status].append(
            LetterCard(
                letter=letter,
                counts=[
                    Count_(key, label, getattr(letter, f"n_{key}"), queue_url(letter, key))
                    for key, (label, _) in BUCKETS.items()
                ],
                today=today,
                week=week,
                last_delivery=delivery,
                last_delivery_at=local_time(delivery.recorded_at, letter) if delivery else "",
                # A letter staff closed before its closing day closed then, not on that day.
                closed=status == Letter.Status.CLOSED,
                closes_at=local_time(
                    letter_closed_at(letter) if status == Letter.Status.CLOSED else letter.closes_at,
                    letter,
                ),
                links=_links(letter, can_import),
                sign_by=local_time(letter.sign_by, letter),
                publish_at=local_time(letter.publish_at, letter),
                invitations=invited.get(letter.pk, {}),
            )
        )
    return {
        "open": cards[Letter.Status.OPEN],
        "closed": list(reversed(cards[Letter.Status.CLOSED])),
        "drafts": cards[Letter.Status.DRAFT],
        "circulating": cards[Letter.Status.CIRCULATING],  # templates/admin/dashboard_circulating.html
        "digest": DigestSubscription.objects.filter(user=request.user).exists(),
        "mail": mail_health(),
        # "Is your name here without your consent?": those nobody has decided yet.
        "open_disputes": (
            Dispute.objects.filter(status=Dispute.Status.OPEN).count()
            if request.user.has_perm("letters.view_dispute")
            else None
        ),
    }


@require_POST
def digest_toggle(request: HttpRequest):
    """The dashboard's button: the daily digest by e-mail, on or off, for the user pressing it."""
    if request.POST.get("digest") == "on":
        if not request.user.email:
            messages.error(request, "Add an e-mail address to your account first: the digest is sent there.")
        else:
            DigestSubscription.objects.get_or_create(user=request.user)
            messages.success(request, f"You will get the daily digest at {request.user.email}.")
    else:
        DigestSubscription.objects.filter(user=request.user).delete()
        messages.success(request, "The daily digest is off.")
    return HttpResponseRedirect(reverse("admin:index"))


def _week_start(letter: Letter) -> dt.datetime:
    """Monday 00:00 of this week in the letter's zone."""
    today = letter.today()
    return letter.start_of_day(today - dt.timedelta(days=today.weekday()))


def _activity(letters: list[Letter]) -> dict[int, tuple[int, int]]:
    """New signatures (submitted) today and this week, each in its letter's zone: one query."""
    if not letters:
        return {}
    since_monday = [Q(letter_id=letter.pk, submitted_at__gte=_week_start(letter)) for letter in letters]
    since_midnight = [
        Q(letter_id=letter.pk, submitted_at__gte=letter.start_of_day(letter.today())) for letter in letters
    ]
    rows = (
        Signature.objects.filter(functools.reduce(operator.or_, since_monday))
        .values("letter_id")
        .order_by("letter_id")
        .annotate(week=Count("pk"), today=Count("pk", filter=functools.reduce(operator.or_, since_midnight)))
    )
    return {row["letter_id"]: (row["today"], row["week"]) for row in rows}


def _invitation_counts(letters: list[Letter]) -> dict[int, dict[str, int]]:
    """Invited, signed, declined, no answer for each of `letters` (one query; none for no letters)."""
    if not letters:
        return {}
    invitations = Invitation.objects.filter(letter__in=letters).values("letter_id").order_by("letter_id")
    rows = invitations.annotate(**INVITATION_COUNTS)
    return {row.pop("letter_id"): row for row in rows}


def _last_deliveries(letters: list[Letter]) -> dict[int, Delivery]:
    latest: dict[int, Delivery] = {}
    for delivery in Delivery.objects.listing().filter(letter__in=letters).order_by("letter_id", "-number"):
        latest.setdefault(delivery.letter_id, delivery)
    return latest


def _links(letter: Letter, can_import: bool) -> list[tuple[str, str]]:
    slug = letter.slug
    links = [
        ("Public page" if letter.status != Letter.Status.DRAFT else "Preview", letter.get_absolute_url()),
        ("Print", reverse("letters:print", args=[slug])),
        ("PDF", reverse("letters:pdf", args=[slug])),
        ("CSV", reverse("letters:csv", args=[slug])),
    ]
    if can_import:
        links.append(
            ("Import", reverse("admin:letters_signature_import") + "?" + urlencode({"letter": letter.pk}))
        )
    links.append(("Edit", reverse("admin:letters_letter_change", args=[letter.pk])))
    return links


admin.site.register_dashboard(
    dashboard,
    urls=[
        path("digest/", digest_toggle, name="digest"),
        path("guide/", guide, name="guide"),
        path("guide/img/<str:name>", guide_picture, name="guide_picture"),
    ],
)

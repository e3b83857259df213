from django import template
from django.db.models import Count
from django.utils import timezone

from letters.lifecycle.moderation import bucket_q
from letters.lifecycle.retention import letter_closed_at
from letters.models import Letter

register = template.Library()


@register.simple_tag
def index_facts(*letter_lists) -> str:
    """
    Sets on each letter of the index what its line says, in one query for the
    page: `n_signatories` (on the list today: the "approved" bucket, approved
    and not withdrawn) and `closes_on`, the closing day in the letter's zone
    (None when it has none, or when a closed letter was closed before it).
    A letter past its closing moment is closed (see `has_closed`), whatever its status says.
    """
    letters = [letter for letters in letter_lists for letter in letters]
    counts = dict(
        Letter.objects.filter(pk__in=[letter.pk for letter in letters])
        .annotate(n=Count("signatures", filter=bucket_q("approved", "signatures__")))
        .values_list("pk", "n")
    )
    now = timezone.now()
    for letter in letters:
        letter.n_signatories = counts.get(letter.pk, 0)
        closes = letter.closes_at
        early = letter.status == Letter.Status.CLOSED and closes is not None and closes > now
        letter.has_closed = has_closed(letter, now)
        letter.closes_on = letter.local_date(closes) if closes and not early else None
    return ""


def has_closed(letter: Letter, now) -> bool:
    """
    Whether `letter` no longer takes signatures for good: closed by staff, or
    past its closing moment (the lifecycle's rule, letter_closed_at) — what the
    letter's own page says. The index and the dashboard list it as closed.
    """
    closed = letter_closed_at(letter)
    return closed is not None and closed <= now

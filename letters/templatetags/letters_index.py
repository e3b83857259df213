from django import template
from django.db.models import Count
from django.utils import timezone

from letters.lifecycle.moderation import bucket_q
from letters.lifecycle.retention import letter_has_closed
from letters.models import Letter

register = template.Library()


@register.simple_tag
def index_facts(*letter_lists) -> str:
    """
    Sets on each letter of the index what its line says, in one query for the
    page: `n_signatories` (on the list today: the "approved" bucket, approved
    and not withdrawn) and `closes_on`, the closing day in the letter's zone
    (None when it has none, or when a closed letter was closed before it).
    A letter past its closing moment is closed (see `letter_has_closed`), whatever its status says.
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
        letter.has_closed = letter_has_closed(letter, now)
        letter.closes_on = letter.local_date(closes) if closes and not early else None
    return ""

"""
"Is your name here without your consent?": a reader disputes an entry of a
public list (docs/design.md, "Who vouches for a name"). No account; the
dispute waits for staff, who hear of it by e-mail at once.
"""

import logging

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from letters import lifecycle
from letters.models import Signature
from letters.rosters import Roster
from letters.signing import ratelimits
from letters.signing.clients import client_ip
from letters.signing.forms import HONEYPOT_FIELD, DisputeForm
from letters.signing.tasks import send_dispute_notice
from letters.views.public import get_letter_for_visitor, private_link_view
from signatories.normalize import name_key

logger = logging.getLogger(__name__)


# Up to this many named entries the form offers them all in one list; a longer
# list is searched by name first (a select of 10,000 names is a megabyte on a phone).
SELECT_MAX = 300
SEARCH_MATCHES = 100


def listed_entries(roster: Roster, *, search: str = "", pk: int | None = None) -> dict[int, str]:
    """
    The named entries of the day's list, by signature: what a reader may
    dispute (never the unnamed). `search` keeps those whose name contains it
    (case and accents aside), at most SEARCH_MATCHES; `pk` only that one.
    """
    signatures = roster.signatures()
    people, organizations = signatures.individuals(), signatures.organizations()
    if pk is not None:
        people, organizations = people.filter(pk=pk), organizations.filter(pk=pk)
    if key := name_key(search):
        people = people.filter(individual__name_key__contains=key)[:SEARCH_MATCHES]
        organizations = organizations.filter(organization__name_key__contains=key)[:SEARCH_MATCHES]
    entries = dict(people.values_list("pk", "individual__name"))
    rows = organizations.values_list("pk", "organization__name", "organization__acronym")
    entries |= {pk: f"{name} ({acronym})" if acronym else name for pk, name, acronym in rows}
    return entries


def _entries(request: HttpRequest, roster: Roster) -> tuple[dict[int, str], bool]:
    """The entries the form offers, and whether the list is long enough to be searched first."""
    if request.method == "POST":
        raw = request.POST.get("entry", "")
        valid = raw.isascii() and raw.isdigit() and len(raw) <= 18  # a database id, never an overflow
        return (listed_entries(roster, pk=int(raw)) if valid else {}), False
    if roster.signatures().count() <= SELECT_MAX:
        return listed_entries(roster), False
    search = request.GET.get("q", "")[:100]
    return (listed_entries(roster, search=search) if name_key(search) else {}), True


@never_cache  # what a reader types: kept by no cache
@require_http_methods(["GET", "HEAD", "POST"])
@private_link_view
def dispute(request: HttpRequest, slug: str) -> HttpResponse:
    letter = get_letter_for_visitor(request, slug, key_opens=True)
    key = getattr(request, "private_link", "")
    context = {"letter": letter, "sent": request.GET.get("sent") == "1"}
    entries, searched = _entries(request, Roster(letter))
    form = DisputeForm(request.POST if request.method == "POST" else None, entries=list(entries.items()))
    context |= {"form": form, "searched": searched, "q": request.GET.get("q", "")[:100], "key": key}
    if request.method != "POST":
        return render(request, "letters/dispute.html", context)
    limited, retry_after = ratelimits.hit(
        f"dispute:{letter.pk}", client_ip(request), ratelimits.DISPUTE_RATE_LIMIT
    )
    if limited:
        response = render(request, "429.html", {"letter": letter}, status=429)
        response["Retry-After"] = str(retry_after)
        return response
    done = reverse("letters:dispute", args=[letter.slug]) + "?sent=1" + (f"&key={key}" if key else "")
    if request.POST.get(HONEYPOT_FIELD):
        logger.info("Honeypot filled on the dispute form of %s; dropped", letter.slug)
        return redirect(done)
    if not form.is_valid():
        return render(request, "letters/dispute.html", context, status=400)
    signature = Signature.objects.filter(letter=letter, pk=form.cleaned_data["entry"]).first()
    if signature is None:  # gone from the list between the page and the answer
        form.add_error("entry", gettext("That entry is no longer on the list."))
        return render(request, "letters/dispute.html", context, status=400)
    with transaction.atomic():
        stored = lifecycle.dispute_open(
            letter=letter,
            signature=signature,
            contact_email=form.cleaned_data["contact_email"],
            message=form.cleaned_data["message"],
        )
        transaction.on_commit(lambda: send_dispute_notice.enqueue(dispute_id=stored.pk))
    return redirect(done)

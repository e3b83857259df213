"""
Views that exist only for bench/signup_load.py, mounted by bench/urls.py
(DJANGO_SETTINGS_MODULE=bench.settings).
They measure what the signup path is compared with: the one-INSERT ceiling and the signup floor.
"""

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from letters.signing.forms import FORMS
from letters.views.public import get_letter_for_visitor
from letters.views.signup import _rate_limited

CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_insert (payload varchar(254) NOT NULL, created_at varchar(40) NOT NULL)"
)


@csrf_exempt
@require_POST
def one_insert(request: HttpRequest) -> HttpResponse:
    """Exactly one durable INSERT per request: the ceiling of a request that writes once."""
    _insert_one(request.POST.get("email", ""))
    return HttpResponse(status=204)


def _insert_one(payload: str) -> None:
    """The one durable INSERT both views make."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_insert (payload, created_at) VALUES (%s, %s)",
            [payload[:254], timezone.now().isoformat()],
        )


@require_POST
def signup_floor(request: HttpRequest, slug: str) -> HttpResponse:
    """
    What any signup request costs before it learns who signs: the signup's own
    CSRF check, letter, rate limit and form, then one INSERT (of the address),
    the same as the one-INSERT view, and the same redirect. No design that
    keeps those on the request can make a signup cheaper than this.
    """
    letter = get_letter_for_visitor(request, slug)
    if _rate_limited(request, f"sign:{letter.pk}"):  # the signup's own count
        return HttpResponse(status=429)
    form = FORMS["individual"](request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    _insert_one(form.cleaned_data["email"])
    return redirect(f"{reverse('letters:sign_done', args=[letter.slug])}?as=individual")

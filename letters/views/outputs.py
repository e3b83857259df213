"""What a letter is delivered as: print version, PDF, press CSV, JSON and deliveries."""

import datetime as dt
import functools
import json
from pathlib import Path

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from letters.languages import date_language
from letters.models import Delivery, Letter
from letters.outputs import cache, press, printing, word
from letters.outputs import pdf as pdfs
from letters.outputs.deliveries import FrozenRoster, since_delivery
from letters.outputs.middleware import stored_page
from letters.rosters import AsOfError, Roster, format_day
from letters.signing import ratelimits
from letters.signing.clients import client_ip
from letters.views.public import bad_as_of, get_letter_for_visitor
from staff.access import is_staff


def _plain_400(message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def roster_download(view):
    """A download of a letter's roster as of `?as_of=`: a malformed or future day is a plain 400."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, slug: str) -> HttpResponse:
        letter = get_letter_for_visitor(request, slug)
        try:
            roster = Roster.for_request(letter, request.GET.get("as_of"))
        except AsOfError as error:
            return _plain_400(str(error))
        return view(request, roster)

    return wrapper


def _revalidated(response: HttpResponse, etag: str) -> HttpResponse:
    """Clients may keep a copy but must ask again; an unchanged roster then costs a 304."""
    response.headers["ETag"] = etag
    patch_cache_control(response, no_cache=True)
    return response


def _not_modified(request: HttpRequest, etag: str) -> HttpResponse | None:
    response = get_conditional_response(request, etag=etag)
    return _revalidated(response, etag) if response is not None else None


@stored_page
@require_safe
def print_version(request: HttpRequest, slug: str) -> HttpResponse:
    letter = get_letter_for_visitor(request, slug)
    try:
        roster = Roster.for_request(letter, request.GET.get("as_of"))
        paper = printing.paper_for_request(request.GET.get("paper"))
    except (AsOfError, printing.PaperError) as error:
        return bad_as_of(request, letter, error)
    key = cache.page_key(roster, "print", paper)
    page = lambda: [printing.print_html(roster, paper, request.letter_versions).encode()]  # noqa: E731
    return cache.respond(request, key, page, content_type="text/html; charset=utf-8")


@require_safe
def pdf(request: HttpRequest, slug: str) -> HttpResponse:
    letter = get_letter_for_visitor(request, slug)
    try:
        roster = Roster.for_request(letter, request.GET.get("as_of"))
        paper = printing.paper_for_request(request.GET.get("paper"))
    except (AsOfError, printing.PaperError) as error:
        return _plain_400(str(error))
    versions = request.letter_versions
    if versions.text.is_draft:
        # Staff previewing a draft translation: rendered for them, never stored.
        response = HttpResponse(pdfs.render_pdf(roster, paper, versions), content_type="application/pdf")
        return cache.private_headers(response)
    etag = cache.etag_for(cache.page_key(roster, "pdf", paper))
    live = is_staff(request)
    if not live and (not_modified := get_conditional_response(request, etag=etag)) is not None:
        return cache.public_headers(not_modified, etag)
    pdf = pdfs.pdf_stored(roster, paper)
    if pdf is None and not live and (newest := pdfs.pdf_newest(roster, paper)) and pdfs.renders_later(roster):
        # The list changed since the newest PDF of the day: that one at once, while a worker renders the new.
        pdfs.render_later(roster, paper)
        return _older_pdf(letter, roster, versions, *newest)
    if pdf is None:
        # Rendering costs seconds of a worker: each client gets a few a minute.
        spent, retry_after = _render_budget_hit(request)
        if spent:
            return _pdf_budget_spent(request, roster, retry_after)
        pdf = pdfs.pdf_for_visitor(roster, paper, versions)
    if pdf is None:
        response = render(request, "letters/_outputs_pdf_pending.html", {"roster": roster}, status=503)
        response.headers["Retry-After"] = "15"
        return response
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = printing.dated_filename(
        letter.slug, roster.as_of, "pdf", language=versions.translated_language
    )
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return cache.private_headers(response) if live else cache.public_headers(response, etag)


def _older_pdf(letter: Letter, roster: Roster, versions, pdf: bytes, moment: dt.datetime) -> HttpResponse:
    """
    A PDF of an earlier state of the list: never under the current state's
    ETag nor kept by any cache (it would pass for the current one), its
    moment printed in it, in its file name and in Last-Modified.
    """
    response = HttpResponse(pdf, content_type="application/pdf")
    local = moment.astimezone(letter.tzinfo)
    filename = printing.dated_filename(
        letter.slug, roster.as_of, "pdf", language=versions.translated_language
    )
    filename = filename.removesuffix(".pdf") + f"-list-of-{local:%Y-%m-%d-%H%M}.pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Last-Modified"] = http_date(moment.timestamp())
    return cache.private_headers(response)


def _render_budget_hit(request: HttpRequest) -> tuple[bool, int]:
    """
    Counts one cold render (a PDF or a Word document not yet stored) against
    the client's budget of PDF_RENDERS_PER_MINUTE: whether it is spent, and
    the seconds until the minute ends.
    """
    return ratelimits.hit("pdf", client_ip(request), f"{settings.PDF_RENDERS_PER_MINUTE}/m")


def _cold_render(request: HttpRequest, key: str) -> bool:
    """
    Whether `cache.respond` would render the body under `key` for this request:
    staff always get it rendered; a visitor unless it is stored on this host
    or their copy is current (a 304). The same logic as `cache.respond`.
    """
    if is_staff(request):
        return True
    if (Path(settings.PAGE_CACHE_DIR) / key).exists():
        return False
    return get_conditional_response(request, etag=cache.etag_for(key)) is None


def _pdf_budget_spent(request: HttpRequest, roster: Roster, retry_after: int) -> HttpResponse:
    at = timezone.now() + dt.timedelta(seconds=retry_after)
    context = {"roster": roster, "seconds": retry_after, "at": at}
    response = render(request, "letters/pdf_budget.html", context, status=429)
    response.headers["Retry-After"] = str(retry_after)
    return response


@stored_page
@require_safe
@roster_download
def word_document(request: HttpRequest, roster: Roster) -> HttpResponse:
    """Built once per state of the list, like the CSV: a 10,000-name document costs seconds to build."""
    versions = request.letter_versions
    key = cache.page_key(roster, "docx")
    if _cold_render(request, key):
        # As costly as a PDF: the same budget of renders a minute per client, whichever it asks for.
        spent, retry_after = _render_budget_hit(request)
        if spent:
            return _pdf_budget_spent(request, roster, retry_after)
    filename = printing.dated_filename(
        roster.letter.slug, roster.as_of, "docx", language=versions.translated_language
    )
    return cache.respond(
        request,
        key,
        lambda: [word.letter_docx(roster, versions)],
        content_type=word.CONTENT_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        compress=False,  # a .docx is a zip file already
    )


@stored_page
@require_safe
@roster_download
def signatories_csv(request: HttpRequest, roster: Roster) -> HttpResponse:
    filename = printing.dated_filename(roster.letter.slug, roster.as_of, "csv", what="signatories")
    return cache.respond(
        request,
        cache.page_key(roster, "csv"),
        lambda: press.csv_chunks(roster),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        stream=True,
    )


@stored_page
@require_safe
@roster_download
def signatories_json(request: HttpRequest, roster: Roster) -> HttpResponse:
    def body() -> list[bytes]:
        return [json.dumps(press.roster_json(roster), cls=DjangoJSONEncoder, ensure_ascii=False).encode()]

    key = cache.page_key(roster, "json")
    return cache.respond(request, key, body, content_type="application/json")


def _get_delivery(request: HttpRequest, slug: str, number: int, *, with_pdf: bool = False) -> Delivery:
    letter = get_letter_for_visitor(request, slug)
    deliveries = Delivery.objects.select_related("letter")
    if not with_pdf:
        deliveries = deliveries.defer("pdf")
    return get_object_or_404(deliveries, letter=letter, number=number)


@require_safe
def delivery(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    delivery = _get_delivery(request, slug, number)
    return render(
        request,
        "letters/delivery.html",
        {
            "letter": delivery.letter,
            "delivery": delivery,
            "roster": FrozenRoster(delivery),
            "staff": is_staff(request),
        },
    )


@require_safe
def delivery_pdf(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    delivery = _get_delivery(request, slug, number, with_pdf=True)
    if FrozenRoster(delivery).erased_count and not is_staff(request):
        # It prints names since erased at their signers' request: kept for staff only.
        return HttpResponse(
            _(
                "This PDF names signatories who since asked to be removed from every list. It is kept for "
                "the organizers; its SHA-256 is on the delivery’s page."
            ),
            status=410,
            content_type="text/plain; charset=utf-8",
        )
    etag = f'"{delivery.pdf_sha256}"'
    # Staff may be sent names since erased: never for a shared cache to keep.
    live = is_staff(request)
    if not live and (not_modified := _not_modified(request, etag)):
        return not_modified
    response = HttpResponse(bytes(delivery.pdf), content_type="application/pdf")
    filename = printing.dated_filename(slug, delivery.as_of, "pdf", what=f"delivery-{delivery.number}")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return cache.private_headers(response) if live else _revalidated(response, etag)


@require_safe
def delivery_since(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    delivery = _get_delivery(request, slug, number)
    letter: Letter = delivery.letter
    try:
        later = Roster.for_request(letter, request.GET.get("as_of"))
        if later.as_of < delivery.as_of:
            delivered_on = format_day(delivery.as_of, date_language(letter))
            raise AsOfError(
                _("Choose a day on or after %(day)s, the day of the delivered list.") % {"day": delivered_on}
            )
    except AsOfError as error:
        return bad_as_of(request, letter, error)
    changes = since_delivery(delivery, later.as_of)
    return render(
        request,
        "letters/delivery_since.html",
        {"letter": letter, "delivery": delivery, "changes": changes},
    )

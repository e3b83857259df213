"""Signing a letter: the form, e-mail confirmation and withdrawal."""

import ipaddress
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_ratelimit.core import is_ratelimited

from .. import services, tokens
from ..forms import FORMS, HONEYPOT_FIELD, NewLinkForm
from ..models import Letter, Signature
from .public import get_letter_for_visitor

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """
    The visitor's address: REMOTE_ADDR, or the header a proxy in front sets
    (settings.RATELIMIT_IP_META_KEY, e.g. HTTP_X_REAL_IP). IPv6 addresses count
    per /64 network, as one household or phone usually has a whole one.
    """
    meta_key = getattr(settings, "RATELIMIT_IP_META_KEY", None) or "REMOTE_ADDR"
    value = request.META.get(meta_key, "").split(",")[0].strip()
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return value
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def _rate_limited(request: HttpRequest, group: str) -> bool:
    """Counts this POST against the visitor's allowance for `group`; True once it is used up."""
    try:
        # One transaction for the cache's reads and writes: on SQLite one turn
        # at the write lock instead of two.
        with transaction.atomic():
            return is_ratelimited(
                request,
                group=group,
                key=lambda _group, request: client_ip(request),
                rate=settings.SIGNUP_RATE_LIMIT,
                method="POST",
                increment=True,
            )
    except DatabaseError:
        # The count lives in the database cache; if that is locked or gone, we
        # let the signature through rather than turn a signer away.
        logger.warning("Rate limit not checked: the cache is unavailable", exc_info=True)
        return False


def _too_many(request: HttpRequest, letter: Letter | None = None) -> HttpResponse:
    return render(request, "429.html", {"letter": letter}, status=429)


def _busy(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """The database stayed locked longer than we wait: nothing was stored, the visitor may retry."""
    logger.warning("Database busy; answered 503", exc_info=True)
    return render(request, template, {**context, "busy": True}, status=503)


def _kind(request: HttpRequest, letter: Letter) -> str | None:
    kinds = services.accepted_kinds(letter)
    requested = request.POST.get("kind") or request.GET.get("as")
    return requested if requested in kinds else (kinds[0] if kinds else None)


@require_http_methods(["GET", "HEAD", "POST"])
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    letter = get_letter_for_visitor(request, slug)
    kind = _kind(request, letter)
    if not letter.is_accepting_signatures() or kind is None:
        status = 200 if request.method != "POST" else 403
        context = {"letter": letter, "now": timezone.now()}
        return render(request, "letters/sign_closed.html", context, status=status)

    form_class = FORMS[kind]
    context = {"letter": letter, "kind": kind, "kinds": services.accepted_kinds(letter)}
    if request.method != "POST":
        return render(request, "letters/sign.html", {**context, "form": form_class()})

    # Every POST counts, bots' and mistaken ones too.
    if _rate_limited(request, f"sign:{letter.pk}"):
        return _too_many(request, letter)
    done = f"{reverse('letters:sign_done', args=[letter.slug])}?as={kind}"
    if request.POST.get(HONEYPOT_FIELD):
        # A bot: it sees what a person would, and nothing is stored.
        logger.info("Honeypot filled on %s; submission dropped", letter.slug)
        return redirect(done)

    form = context["form"] = form_class(request.POST)
    if not form.is_valid():
        return render(request, "letters/sign.html", context, status=400)
    try:
        services.signature_submit(
            letter=letter, kind=kind, ip_address=client_ip(request), **form.service_arguments()
        )
    except ValidationError as error:
        _add_errors(form, error)
        return render(request, "letters/sign.html", context, status=400)
    except services.SigningClosed:
        # The letter closed while the form was being filled in.
        context = {"letter": letter, "now": timezone.now()}
        return render(request, "letters/sign_closed.html", context, status=403)
    except OperationalError:
        return _busy(request, "letters/sign.html", context)
    return redirect(done)


# The service's (model) field names that the organization form calls otherwise.
ORGANIZATION_FORM_FIELDS = {"name": "organization_name", "contact_name": "name", "contact_email": "email"}


def _add_errors(form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        if form.kind == "organization":
            field = ORGANIZATION_FORM_FIELDS.get(field, field)
        form.add_error(field if field in form.fields else None, errors)


@require_http_methods(["GET", "HEAD", "POST"])
def sign_new_link(request: HttpRequest, slug: str) -> HttpResponse:
    """A new confirmation link, for a signer who lost the e-mail or whose link was damaged."""
    letter = get_letter_for_visitor(request, slug)
    form = NewLinkForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if _rate_limited(request, f"new-link:{letter.pk}"):
            return _too_many(request, letter)
        if form.is_valid():
            services.confirmation_resend_for_email(letter=letter, email=form.cleaned_data["email"])
            # The same answer whether or not the address signed.
            return render(request, "letters/sign_new_link.html", {"letter": letter, "sent": True})
    status = 400 if form.errors else 200
    return render(request, "letters/sign_new_link.html", {"letter": letter, "form": form}, status=status)


@require_safe
def sign_done(request: HttpRequest, slug: str) -> HttpResponse:
    letter = get_letter_for_visitor(request, slug)
    kind = _kind(request, letter)
    context = {"letter": letter, "kind": kind, "confirm_days": settings.SIGNUP_CONFIRM_MAX_AGE // 86400}
    return render(request, "letters/sign_done.html", context)


def _signature(signature_id: int) -> Signature | None:
    signatures = Signature.objects.select_related("letter", "individual", "organization")
    return signatures.filter(pk=signature_id).first()


@require_safe
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    # GET confirms (PRODUCT.md): the link is the signer's proof of the address.
    # Mail scanners open links too, which is why a second opening changes nothing.
    try:
        signature = _signature(tokens.read_confirm_token(token))
    except tokens.ExpiredToken:
        return render(request, "letters/confirm_invalid.html", {"expired": True, "token": token}, status=400)
    except tokens.BadToken:
        signature = None
    if signature is None:
        return render(request, "letters/confirm_invalid.html", {"expired": False}, status=400)

    closed = False
    try:
        signature = services.signature_confirm(signature=signature)
    except services.SigningClosed:
        closed = True
    except OperationalError:
        return _busy(request, "letters/confirm.html", {"signature": signature, "letter": signature.letter})
    return render(
        request,
        "letters/confirm.html",
        {
            "signature": signature,
            "letter": signature.letter,
            "closed": closed,
            "withdraw_token": tokens.make_withdraw_token(signature.pk),
        },
    )


@require_POST
def confirm_resend(request: HttpRequest, token: str) -> HttpResponse:
    """A new confirmation link for the signature of an expired one."""
    if _rate_limited(request, "confirm-resend"):
        return _too_many(request)
    try:
        signature = _signature(tokens.read_confirm_token(token, allow_expired=True))
    except tokens.BadToken:
        signature = None
    if signature is None:
        return render(request, "letters/confirm_invalid.html", {"expired": False}, status=400)
    sent = services.confirmation_resend(signature=signature)
    context = {"signature": signature, "letter": signature.letter, "sent": sent}
    return render(request, "letters/confirm_resent.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    try:
        signature = _signature(tokens.read_withdraw_token(token))
    except tokens.BadToken:
        signature = None
    if signature is None:
        return render(request, "letters/withdraw_invalid.html", status=400)

    context = {"signature": signature, "letter": signature.letter}
    if request.method == "POST" and signature.withdrawn_at is None:
        reason = request.POST.get("reason", "")
        if len(reason) > 500:
            error = "Please keep the reason under 500 characters."
            context |= {"reason": reason, "error": error}
            return render(request, "letters/withdraw.html", context, status=400)
        try:
            services.signature_withdraw(signature=signature, reason=reason)
        except OperationalError:
            return _busy(request, "letters/withdraw.html", context)
        return redirect("letters:withdraw", token=token)
    return render(request, "letters/withdraw.html", context)

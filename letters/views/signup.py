"""Signing a letter: the form, e-mail confirmation, and the signer's own page."""

import functools
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from letters import languages, lifecycle
from letters.models import Correction, Letter, Signature
from letters.signing import ratelimits, services, tokens
from letters.signing.clients import client_ip
from letters.signing.forms import (
    CORRECTION_FORMS,
    FORMS,
    HONEYPOT_FIELD,
    ListingForm,
    NewLinkForm,
    WithdrawForm,
)
from letters.views.public import get_letter_for_visitor, private_link_view

logger = logging.getLogger(__name__)


def _rate_limited(request: HttpRequest, group: str) -> bool:
    """Counts this POST against the visitor's allowance for `group`; True once it is used up."""
    if request.method != "POST":
        return False
    return ratelimits.hit(group, client_ip(request), settings.SIGNUP_RATE_LIMIT)[0]


def _too_many(request: HttpRequest, letter: Letter | None = None, retry_after: int = 0) -> HttpResponse:
    response = render(request, "429.html", {"letter": letter}, status=429)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _changes_limited(request: HttpRequest, what: str) -> int:
    """
    Counts this POST to a signer's page or link (`what`: the signature or
    correction it acts on) against MANAGE_RATE_LIMIT, per `what` and per
    client: every change is a new list, a new ETag and PDF renders, queued
    before other signers' e-mails. Returns the seconds to wait once either is
    used up, else 0.
    """
    if request.method != "POST":
        return 0
    rate = settings.MANAGE_RATE_LIMIT
    hits = [ratelimits.hit("manage", what, rate), ratelimits.hit("manage-client", client_ip(request), rate)]
    return max((seconds for limited, seconds in hits if limited), default=0)


def _busy(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """The database stayed locked longer than we wait: nothing was stored, the visitor may retry."""
    logger.warning("Database busy; answered 503", exc_info=True)
    return render(request, template, {**context, "busy": True}, status=503)


# How long a visitor is asked to wait when the database is out of reach.
RETRY_AFTER_SECONDS = 30


def _unreachable(request: HttpRequest) -> HttpResponse:
    """
    The database could not be read before the form was even looked at (an
    outage, not a lock): nothing was stored. Unlike the 500 page ("nothing you
    sent was lost", which would be untrue here) this says so and hands back
    what was typed, ready to send again.
    """
    logger.error("Database unreachable; a signature was not stored (answered 503)", exc_info=True)
    fields = [
        (name, value)
        for name, values in request.POST.lists()
        if name != "csrfmiddlewaretoken"
        for value in values
    ]
    context = {"fields": fields, "action": request.get_full_path()}
    response = render(request, "letters/sign_unavailable.html", context, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


# What the database raises when it cannot be reached (psycopg: a closed connection is an InterfaceError)…
OUTAGE = (DatabaseError, InterfaceError)
# …but not the errors of ours (a bug, a constraint): those get the 500 page.
NOT_AN_OUTAGE = (IntegrityError, DataError, ProgrammingError, NotSupportedError)


def _unavailable(request: HttpRequest) -> HttpResponse:
    """
    The database could not be reached: 503 with Retry-After and a page that
    says to try again in a minute and that nothing was changed (true: every
    change is one transaction, and it did not commit), never the 500 page.
    """
    where = getattr(request.resolver_match, "url_name", "") or "a page"
    logger.error("Database unreachable on %s; answered 503", where, exc_info=True)
    # Nothing more from the database: the page's language links come without the letter's translations.
    request.letter_versions = None
    retry = request.get_full_path() if request.method in ("GET", "HEAD") else ""
    response = render(request, "letters/unavailable.html", {"retry": retry}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def outage_answered(view):
    """`view`, answering a database outage with `_unavailable` (a lock it answers itself, with its form)."""

    @functools.wraps(view)
    def answered(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NOT_AN_OUTAGE:
            raise
        except OUTAGE:
            return _unavailable(request)

    return answered


def _kind(request: HttpRequest, letter: Letter) -> str | None:
    kinds = services.accepted_kinds(letter)
    requested = request.POST.get("kind") or request.GET.get("as")
    return requested if requested in kinds else (kinds[0] if kinds else None)


@require_http_methods(["GET", "HEAD", "POST"])
@private_link_view
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        return _sign(request, slug)
    except NOT_AN_OUTAGE:
        raise
    except OUTAGE:
        # A lock while storing is answered inside (_busy, with the whole form);
        # anything else the database refuses lands here: a POST gets back what was typed.
        if request.method != "POST":
            return _unavailable(request)
        return _unreachable(request)


def _sign(request: HttpRequest, slug: str) -> HttpResponse:
    letter = get_letter_for_visitor(request, slug, key_opens=True)
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
    if key := getattr(request, "private_link", ""):
        done += f"&key={key}"
    if request.POST.get(HONEYPOT_FIELD):
        # A bot: it sees what a person would, and nothing is stored.
        logger.info("Honeypot filled on %s; submission dropped", letter.slug)
        return redirect(done)

    form = context["form"] = form_class(request.POST)
    if _text_changed(request, letter):
        # The signer would be listed under words they were not shown: nothing is stored,
        # the form comes back with what was typed and the new text, to be sent again.
        return render(request, "letters/sign.html", {**context, "text_changed": True}, status=409)
    if not form.is_valid():
        return render(request, "letters/sign.html", context, status=400)
    try:
        services.signature_submit(
            letter=letter,
            kind=kind,
            ip_address=client_ip(request),
            language=translation.get_language() or "",
            **form.service_arguments(),
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


def _text_changed(request: HttpRequest, letter: Letter) -> bool:
    """
    Whether the form was shown with another version of the text than the letter has now
    (its hidden `text_version`). A form without one (sent by a page from before versions) is
    taken as showing the current text.
    """
    shown = request.POST.get("text_version")
    if shown is None:
        return False
    # "0": shown before anyone signed; the first signature took that text as version 1.
    current = {"0", "1"} if letter.text_version <= 1 else {str(letter.text_version)}
    return shown.strip() not in current


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
@outage_answered
@private_link_view
def sign_new_link(request: HttpRequest, slug: str) -> HttpResponse:
    """A new confirmation link, for a signer who lost the e-mail or whose link was damaged."""
    letter = get_letter_for_visitor(request, slug, key_opens=True)
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
@private_link_view
def sign_done(request: HttpRequest, slug: str) -> HttpResponse:
    letter = get_letter_for_visitor(request, slug, key_opens=True)
    kind = _kind(request, letter)
    context = {"letter": letter, "kind": kind, "confirm_days": settings.SIGNUP_CONFIRM_MAX_AGE // 86400}
    return render(request, "letters/sign_done.html", context)


def _signature(signature_id: int) -> Signature | None:
    signatures = Signature.objects.select_related("letter", "individual", "organization")
    return signatures.filter(pk=signature_id).first()


@never_cache  # a signer's own entry: kept by no browser or proxy
@require_http_methods(["GET", "HEAD", "POST"])
@outage_answered
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """
    The link in the confirmation e-mail. Opening it (GET, HEAD) shows the entry
    and a button and changes nothing — mail scanners open links; the button
    (POST) confirms. Confirming twice is harmless.
    """
    expired = False
    try:
        signature = _signature(tokens.read_confirm_token(token))
    except tokens.ExpiredToken:
        signature, expired = _signature(tokens.read_confirm_token(token, allow_expired=True)), True
    except tokens.BadToken:
        signature = None
    if signature is None:
        return render(request, "letters/confirm_invalid.html", {"expired": False}, status=400)
    # After staff merged duplicates, the link shows (and confirms) the entry that stands for this one.
    signature = lifecycle.signature_kept(signature)
    if expired and signature.status == Signature.Status.PENDING and not signature.withdrawn_at:
        # Only a signature still to confirm needs a new link; any other is shown as it stands.
        return render(request, "letters/confirm_invalid.html", {"expired": True, "token": token}, status=400)
    if expired and request.method == "POST":
        return redirect("letters:confirm", token=token)

    languages.activate_for_letter(request, signature.letter, default=signature.language)
    context = {
        "signature": signature,
        "letter": signature.letter,
        "manage_token": tokens.make_manage_token(signature.pk),
        "correction": signature.corrections.filter(with_signature=True).exclude(status="superseded").last(),
    }
    if request.method == "POST":
        try:
            lifecycle.signature_confirm(signature=signature)
        except lifecycle.SigningClosed:
            return render(request, "letters/confirm.html", {**context, "closed": True}, status=403)
        except OperationalError:
            return _busy(request, "letters/confirm.html", context)
        return redirect("letters:confirm", token=token)
    return render(request, "letters/confirm.html", context)


@never_cache  # a signer's own entry: kept by no browser or proxy
@require_http_methods(["GET", "HEAD", "POST"])
@outage_answered
def confirm_correction(request: HttpRequest, token: str) -> HttpResponse:
    """The link in a correction's own e-mail: shows the entry as proposed; the button (POST) confirms it."""
    try:
        correction = (
            Correction.objects.select_related(
                "signature__letter", "signature__individual", "signature__organization"
            )
            .filter(pk=tokens.read_correction_token(token))
            .first()
        )
    except tokens.ExpiredToken:
        context = {"expired": True, "correction": True}
        return render(request, "letters/confirm_invalid.html", context, status=400)
    except tokens.BadToken:
        correction = None
    if correction is None or correction.signature.erased_at:
        return render(request, "letters/confirm_invalid.html", {"expired": False}, status=400)
    signature = correction.signature
    languages.activate_for_letter(request, signature.letter, default=signature.language)
    context = {
        "correction": correction,
        "signature": signature,
        "letter": signature.letter,
        "needs_approval": lifecycle.correction_needs_approval(signature),
        "manage_token": tokens.make_manage_token(signature.pk),
    }
    if request.method == "POST":
        if retry_after := _changes_limited(request, f"correction:{correction.pk}"):
            return _too_many(request, signature.letter, retry_after)
        try:
            lifecycle.correction_confirm(correction=correction)
        except OperationalError:
            return _busy(request, "letters/confirm_correction.html", context)
        return redirect("letters:confirm_correction", token=token)
    return render(request, "letters/confirm_correction.html", context)


@require_POST
@outage_answered
def confirm_resend(request: HttpRequest, token: str) -> HttpResponse:
    """A new confirmation link for the signature of an expired one."""
    try:
        signature = _signature(tokens.read_confirm_token(token, allow_expired=True))
    except tokens.BadToken:
        signature = None
    if signature is not None:
        # Every answer in the signer's language, "too many attempts" too.
        languages.activate_for_letter(request, signature.letter, default=signature.language)
    if _rate_limited(request, "confirm-resend"):
        return _too_many(request)
    if signature is None:
        return render(request, "letters/confirm_invalid.html", {"expired": False}, status=400)
    sent = services.confirmation_resend(signature=signature)
    context = {"signature": signature, "letter": signature.letter, "sent": sent}
    return render(request, "letters/confirm_resent.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    """The withdrawal links of earlier e-mails lead to the signer's page, which withdraws (and more)."""
    return redirect("letters:manage", token=token)


def _manage_done(token: str, done: str) -> HttpResponse:
    return redirect(reverse("letters:manage", args=[token]) + f"?done={done}")


def _manage_correct(request: HttpRequest, signature: Signature, context: dict) -> HttpResponse:
    """A new entry, through the lifecycle (applied, or waiting for staff)."""
    kind = "organization" if signature.is_organization else "individual"
    form = context["correction_form"] = CORRECTION_FORMS[kind](request.POST)
    if signature.withdrawn_at or not form.is_valid():
        return render(request, "letters/manage.html", context, status=400)
    correction = lifecycle.correction_propose(signature=signature, entry=form.cleaned_data, confirmed=True)
    done = "corrected" if correction is None or correction.status == "applied" else "correction-sent"
    return _manage_done(context["token"], done)


def _manage_withdraw(request: HttpRequest, signature: Signature, context: dict) -> HttpResponse:
    """Off the list from now on."""
    form = context["withdraw_form"] = WithdrawForm(request.POST)
    if not form.is_valid():
        return render(request, "letters/manage.html", context, status=400)
    services.signer_withdraw(signature=signature, reason=form.cleaned_data["reason"])
    return _manage_done(context["token"], "withdrawn")


def _manage_erase(request: HttpRequest, signature: Signature, context: dict) -> HttpResponse:
    """Off every list of every day, private data deleted: a second step says so and asks again."""
    if request.POST.get("confirm") != "yes":
        return render(request, "letters/manage_erase.html", context)
    lifecycle.signature_erase(signature=signature)
    return _manage_done(context["token"], "erased")


def _manage_listing(request: HttpRequest, signature: Signature, context: dict) -> HttpResponse:
    """Named or counted without a name, and a person's family name for the order."""
    form = context["listing_form"] = ListingForm.for_signature(signature, request.POST)
    if not form.is_valid():
        return render(request, "letters/manage.html", context, status=400)
    lifecycle.signature_publication_set(
        signature=signature, unnamed=form.cleaned_data["publication"] == "unnamed"
    )
    if "family_name" in form.cleaned_data:
        lifecycle.signer_family_name_set(signature=signature, family_name=form.cleaned_data["family_name"])
    return _manage_done(context["token"], "listing")


def _manage_reconsent(request: HttpRequest, signature: Signature, context: dict) -> HttpResponse:
    """ "Keep my name under the new text": the signer agrees to the letter's current version."""
    if not lifecycle.needs_reconsent(signature):
        return render(request, "letters/manage.html", {**context, "error": True}, status=400)
    lifecycle.signature_reconsent(signature=signature)
    return _manage_done(context["token"], "reconsented")


MANAGE_ACTIONS = {
    "reconsent": _manage_reconsent,
    "correct": _manage_correct,
    "withdraw": _manage_withdraw,
    "erase": _manage_erase,
    "listing": _manage_listing,
}


def _text_change(signature: Signature) -> dict:
    """What the signer's page shows of a material change to the text they signed: the diff, or nothing."""
    if not lifecycle.needs_reconsent(signature):
        return {}
    signed = lifecycle.letter_version(signature.letter, signature.text_version or 1)
    current = lifecycle.letter_version(signature.letter, signature.letter.text_version)
    if signed is None or current is None:
        return {}
    return {
        "text_change": {"signed": signed, "current": current, "diff": lifecycle.diff_html(signed, current)}
    }


@never_cache  # a signer's own entry: kept by no browser or proxy
@require_http_methods(["GET", "HEAD", "POST"])
@outage_answered
def manage(request: HttpRequest, token: str) -> HttpResponse:
    """
    The signer's own page, linked from every e-mail: the entry as printed,
    and (all by POST, never on GET) `action` = `correct`, `withdraw` or
    `erase`, each answered by its handler in MANAGE_ACTIONS.
    """
    try:
        signature = _signature(tokens.read_manage_token(token))
    except tokens.BadToken:
        signature = None
    if signature is None:
        return render(request, "letters/manage_invalid.html", status=400)
    # After staff merged duplicates, the link acts on the entry that stands for this signature.
    signature = lifecycle.signature_kept(signature)

    languages.activate_for_letter(request, signature.letter, default=signature.language)
    kind = "organization" if signature.is_organization else "individual"
    signatory = signature.signatory
    initial = {name: str(getattr(signatory, name) or "") for name in lifecycle.PRINTED_FIELDS[kind]}
    context = {
        "signature": signature,
        "letter": signature.letter,
        "token": token,
        "correction_form": CORRECTION_FORMS[kind](initial=initial),
        "withdraw_form": WithdrawForm(),
        "listing_form": ListingForm.for_signature(signature),
        "pending_correction": signature.corrections.filter(status=Correction.Status.CONFIRMED).last(),
        "correction_needs_approval": lifecycle.correction_needs_approval(signature),
        **_text_change(signature),
    }
    action = request.POST.get("action") if request.method == "POST" else None
    if action is None:
        return render(request, "letters/manage.html", context)
    if retry_after := _changes_limited(request, f"signature:{signature.pk}"):
        return _too_many(request, signature.letter, retry_after)
    if action not in MANAGE_ACTIONS or signature.erased_at:
        return render(request, "letters/manage.html", {**context, "error": True}, status=400)
    try:
        return MANAGE_ACTIONS[action](request, signature, context)
    except OperationalError:
        return _busy(request, "letters/manage.html", context)
    except ValidationError as error:
        context["correction_form"].add_error(None, error)
        return render(request, "letters/manage.html", context, status=400)

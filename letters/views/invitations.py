"""
/invitations/<token>/: a partner's personal invitation (letters/signing/invitations.py).
The letter and the form filled in with the entry as it would print; "Decline"
is one button; a link stops invitations to the address for every future letter.
A wrong token is the 404 of any page that does not exist, counted against the
client's allowance of wrong keys.
"""

import functools
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control

from letters import languages
from letters.models import Invitation, Letter, Suppression
from letters.outputs import cache
from letters.signing import invitations, ratelimits, services
from letters.signing.clients import client_ip
from letters.signing.forms import FORMS, HONEYPOT_FIELD
from letters.views.public import page_not_found

logger = logging.getLogger(__name__)


def _invitation(request: HttpRequest, token: str) -> Invitation:
    """The invitation of `token` on a letter that takes invited signers; else 404 (or 429 once too many)."""
    invitation = invitations.invitation_for_token(token)
    if invitation is None or invitation.letter.status == Letter.Status.DRAFT:
        if ratelimits.hit("private-key", client_ip(request), settings.PRIVATE_LINK_RATE_LIMIT)[0]:
            raise _TooMany
        raise Http404("No letter here.")
    languages.activate_for_letter(request, invitation.letter, default=invitation.language)
    return invitation


class _TooMany(Exception):
    pass


def _private(response: HttpResponse) -> HttpResponse:
    """The page's address holds the token: kept by no cache, indexed by no search engine, no referrer."""
    cache.private_headers(response)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def invitation_view(*methods: str):
    """
    A view of an invitation's link, answering `methods` only: its answer is
    private (`_private`), too many wrong tokens get 429, and no log line names
    the path, which holds the token. Django's own line for a 4xx answer ("Not
    Found: /invitations/…", and require_http_methods' "Method Not Allowed")
    is replaced by one without it.
    """

    def decorator(view):
        @functools.wraps(view)
        def answered(request: HttpRequest, token: str) -> HttpResponse:
            try:
                if request.method not in methods:
                    response = HttpResponseNotAllowed(methods)
                else:
                    response = _private(view(request, token))
            except Http404 as error:
                response = page_not_found(request, error)
            except _TooMany:
                response = render(request, "429.html", {}, status=429)
                patch_cache_control(response, no_store=True, max_age=0)
            if response.status_code >= 400:
                response._has_been_logged = True  # django.utils.log.log_response: not again, with the path
                logger.warning("An invitation page answered %s", response.status_code)
            return response

        return answered

    return decorator


def _form(invitation: Invitation, data=None):
    """The sign form of the invitation's kind, filled in with the entry as it would print."""
    signatory = invitation.signatory
    if invitation.individual_id:
        initial = {
            "name": signatory.name,
            "family_name": signatory.family_name,
            "title": signatory.title,
            "country": str(signatory.country or ""),
        }
    else:
        initial = {
            "organization_name": signatory.name,
            "acronym": signatory.acronym,
            "website": signatory.website,
            "country": str(signatory.country or ""),
            "name": signatory.contact_name,
        }
    form = FORMS[invitations.invitation_kind(invitation)](data, initial=initial | {"email": invitation.email})
    # The address is the one staff chose: shown, not sent (a disabled field keeps its initial value).
    form.fields["email"].disabled = True
    form.fields["email"].help_text = translation.gettext(
        "The address this invitation was sent to. Never published."
    )
    return form


def _page(
    request: HttpRequest, invitation: Invitation, form=None, status: int = 200, **extra
) -> HttpResponse:
    letter = invitation.letter
    kind = invitations.invitation_kind(invitation)
    context = {
        "invitation": invitation,
        "letter": letter,
        "kind": kind,
        "form": form or _form(invitation),
        "accepting": letter.is_accepting_signatures() and kind in services.accepted_kinds(letter),
        "now": timezone.now(),
        **extra,
    }
    return render(request, "letters/invitation.html", context, status=status)


@invitation_view("GET", "HEAD", "POST")
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation: GET shows the letter and the form; POST signs (no second e-mail)."""
    invitation = _invitation(request, token)
    if request.method != "POST":
        return _page(request, invitation)
    if ratelimits.hit(f"sign:{invitation.letter_id}", client_ip(request), settings.SIGNUP_RATE_LIMIT)[0]:
        return render(request, "429.html", {"letter": invitation.letter}, status=429)
    if invitation.signature_id or request.POST.get(HONEYPOT_FIELD):
        return redirect("letters:invitation", token=token)
    if not invitation.letter.is_accepting_signatures():
        return _page(request, invitation, status=403)
    form = _form(invitation, request.POST)
    if not form.is_valid():
        return _page(request, invitation, form, status=400)
    try:
        invitations.invitation_sign(
            invitation=invitation,
            ip_address=client_ip(request),
            language=translation.get_language() or "",
            **form.service_arguments(),
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _page(request, invitation, form, status=400)
    except services.SigningClosed:
        return _page(request, invitation, status=403)
    except OperationalError:
        return _page(request, invitation, form, status=503, busy=True)
    return redirect("letters:invitation", token=token)


@invitation_view("POST")
def invitation_decline(request: HttpRequest, token: str) -> HttpResponse:
    """ "Decline": one button. Declining again, or after signing, changes nothing."""
    invitation = _invitation(request, token)
    invitations.invitation_decline(invitation=invitation)
    return redirect("letters:invitation", token=token)


@invitation_view("GET", "HEAD", "POST")
def invitation_stop(request: HttpRequest, token: str) -> HttpResponse:
    """
    No more invitations to this address, for any letter. Opening the link shows
    a button (mail scanners open links); the button (POST) does it.
    """
    invitation = _invitation(request, token)
    if request.method == "POST":
        invitations.invitations_stop(invitation=invitation)
        return redirect("letters:invitation_stop", token=token)
    stopped = Suppression.objects.suppresses(invitation.email)
    context = {"invitation": invitation, "letter": invitation.letter, "stopped": stopped}
    return render(request, "letters/invitation_stop.html", context)

"""The link a signature's new contact address is sent (letters/signing/address_change.py)."""

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from letters import languages
from letters.models import Signature
from letters.signing import address_change

TEMPLATE = "letters/confirm_address.html"


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm_address(request: HttpRequest, token: str) -> HttpResponse:
    """Shows a button (a mail scanner opening the link changes nothing); the button (POST) confirms."""
    try:
        signature_id, digest = address_change.read_address_token(token)
    except address_change.BadToken:
        return render(request, TEMPLATE, {"invalid": True}, status=400)
    signature = Signature.objects.select_related("letter").filter(pk=signature_id).first()
    if signature is None or signature.erased_at is not None:
        return render(request, TEMPLATE, {"invalid": True}, status=400)
    languages.activate_for_letter(request, signature.letter, default=signature.language)
    context = {"letter": signature.letter}
    if request.method == "POST":
        try:
            done = address_change.address_confirm(signature_id=signature_id, digest=digest)
        except OperationalError:
            return render(request, TEMPLATE, context | {"busy": True}, status=503)
        return render(request, TEMPLATE, context | ({"done": True} if done else {"gone": True}))
    waiting = signature.pending_contact_email
    if not waiting or address_change.mailbox_digest(waiting) != digest:
        return render(request, TEMPLATE, context | {"gone": True})
    return render(request, TEMPLATE, context)

"""
Staff sign-in: django-axes' lock-out after repeated failures, and an optional
second factor (a TOTP code, django-otp) that settings.STAFF_REQUIRE_2FA makes
compulsory for every staff login. `staff.apps.StaffAdminConfig` (in
INSTALLED_APPS in place of "django.contrib.admin") makes `StaffAdminSite` the
admin site.
"""

import base64

import segno
from axes.backends import AxesStandaloneBackend
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.plugins.otp_totp.models import TOTPDevice


class LoginThrottleBackend(AxesStandaloneBackend):
    """
    django-axes' lock-out for every login made through a request. A login
    without one — the test client's login(), a script — has no address to
    count; the next backend alone decides it.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class TwoFactorLoginForm(OTPAdminAuthenticationForm):
    """The admin login with a code from the staff member's authenticator app, in one step."""

    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": "Enter the 6-digit code from your authenticator app.",
        "device_required": (
            "Staff sign-in needs a code from an authenticator app, and this account has none set up. "
            "Ask an organizer to run manage.py totp_device with your user name."
        ),
        "invalid_token": "That code is not right (or has expired). Enter the current one.",
    }

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user))
            if len(devices) == 1:
                device = devices[0]
        return device


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code from the app",
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def totp_secret(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed in (base32)."""
    return base64.b32encode(device.bin_key).decode()


@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_setup(request: HttpRequest, *, context: dict):
    """A staff member's own authenticator app: add one (its key, then a code to confirm it)."""
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    form = TokenForm(request.POST or None)
    if confirmed is None and device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=False)
    if confirmed is None and request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(
                request, "Your authenticator app is set up: staff sign-in will ask for its code."
            )
            return HttpResponseRedirect(reverse("admin:two_factor_setup"))
        form.add_error("token", "That code is not right. Check the app's clock and enter the current code.")
    pending = device if confirmed is None else None
    context = {
        **context,
        "title": "Two-factor sign-in",
        "confirmed": confirmed,
        "secret": totp_secret(pending) if pending else "",
        "config_url": pending.config_url if pending else "",
        "qr_code": segno.make(pending.config_url).svg_data_uri(scale=4) if pending else "",
        "form": form,
        "required": settings.STAFF_REQUIRE_2FA,
    }
    status = 400 if form.errors else 200
    return TemplateResponse(request, "admin/two_factor_setup.html", context, status=status)

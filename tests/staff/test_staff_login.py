"""Staff sign-in: a lock-out after repeated failures (django-axes), and the optional second factor."""

import io

import pytest
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from letters.models import Letter
from tests.factories import make_letter

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def organizer(staff):
    staff.set_password("right horse battery")
    staff.save()
    return staff


def sign_in(client, password: str, username: str = "organizer", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def code(device: TOTPDevice) -> str:
    return str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift)).zfill(device.digits)


def test_twenty_wrong_passwords_then_the_right_one_does_not_sign_in(client, organizer):
    for _ in range(20):
        assert sign_in(client, "wrong").status_code in {200, 429}

    response = sign_in(client, "right horse battery")

    assert response.status_code == 429
    html = response.content.decode()
    assert "Sign-in locked" in html and "manage.py axes_reset_username organizer" in html
    assert not signed_in(client)


def test_the_lockout_starts_at_the_failure_limit(client, organizer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200  # the form again, with its error
    assert sign_in(client, "wrong").status_code == 429


def test_the_lockout_is_per_user_name_and_address(client, organizer, django_user_model, settings):
    django_user_model.objects.create_user("colleague", password="their own pw", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong", REMOTE_ADDR="198.51.100.7")

    assert sign_in(client, "right horse battery", REMOTE_ADDR="198.51.100.7").status_code == 429
    assert sign_in(client, "their own pw", "colleague", REMOTE_ADDR="198.51.100.7").status_code == 302
    client.logout()
    assert sign_in(client, "right horse battery", REMOTE_ADDR="203.0.113.5").status_code == 302


def test_the_lockout_counts_the_address_as_the_rate_limit_does(client, organizer, settings):
    # Behind a proxy: the header names the client; an IPv6 /64 is one client.
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong", REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP=f"2001:db8:1:2::{n + 1}")

    assert sign_in(client, "right horse battery", HTTP_X_REAL_IP="2001:db8:1:2::ff").status_code == 429
    assert sign_in(client, "right horse battery", HTTP_X_REAL_IP="2001:db8:9:9::1").status_code == 302


def test_axes_reset_unlocks_at_once(client, organizer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong")
    assert sign_in(client, "right horse battery").status_code == 429

    call_command("axes_reset_username", "organizer", stdout=io.StringIO())

    assert sign_in(client, "right horse battery").status_code == 302
    assert signed_in(client)


def test_the_test_clients_login_still_works(client, organizer):
    assert client.login(username="organizer", password="right horse battery")
    assert signed_in(client)


# -- the second factor -------------------------------------------------------------


def test_with_2fa_required_a_password_alone_does_not_sign_in(client, organizer, settings):
    settings.STAFF_REQUIRE_2FA = True
    device = TOTPDevice.objects.create(user=organizer, name="phone")

    response = sign_in(client, "right horse battery")
    assert response.status_code == 200
    assert "Enter the 6-digit code" in response.content.decode()
    assert not signed_in(client)

    response = client.post(
        LOGIN, {"username": "organizer", "password": "right horse battery", "otp_token": code(device)}
    )
    assert response.status_code == 302
    assert signed_in(client)


def test_with_2fa_required_a_session_without_the_code_is_sent_to_sign_in(staff_client, staff, settings):
    settings.STAFF_REQUIRE_2FA = True
    TOTPDevice.objects.create(user=staff, name="phone")

    response = staff_client.get("/admin/letters/signature/")

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_with_2fa_required_a_session_without_the_code_sees_no_draft(staff_client, staff, settings):
    # A password alone (a session from before 2FA was required, a stolen password) is not staff:
    # the admin sent it to sign in, but the public pages showed it every draft and its outputs.
    settings.STAFF_REQUIRE_2FA = True
    TOTPDevice.objects.create(user=staff, name="phone")
    make_letter(slug="secret-draft", title="Not yet announced", status=Letter.Status.DRAFT)

    for url in ["/", "/print/", "/signatories.csv", "/signatories.json", "/embed/", "/sign/"]:
        response = staff_client.get(f"/letters/secret-draft{url}")
        assert response.status_code == 404, url
    assert "Not yet announced" not in staff_client.get("/").content.decode()


def test_with_2fa_required_a_staff_member_without_a_device_is_told_what_to_do(client, organizer, settings):
    settings.STAFF_REQUIRE_2FA = True
    data = {"username": "organizer", "password": "right horse battery", "otp_token": "123456"}
    response = client.post(LOGIN, data)
    assert "manage.py totp_device" in response.content.decode()
    assert not signed_in(client)


def test_a_staff_member_sets_up_an_authenticator_app(staff_client, staff, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code would otherwise hold back the right one a second
    page = staff_client.get("/admin/2fa/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    assert page.context["secret"] in page.content.decode()
    assert '<img src="data:image/svg+xml' in page.content.decode()  # the QR code, no external request

    wrong = staff_client.post("/admin/2fa/", {"token": "000000" if code(device) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert staff_client.post("/admin/2fa/", {"token": code(device)}).status_code == 302

    device.refresh_from_db()
    assert device.confirmed
    assert "is set up" in staff_client.get("/admin/2fa/").content.decode()


def test_the_command_gives_a_staff_member_a_key(organizer):
    out = io.StringIO()
    call_command("totp_device", "organizer", stdout=out)
    device = TOTPDevice.objects.get(user=organizer)
    assert device.confirmed
    assert "otpauth://totp/" in out.getvalue()

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from letters.models import Letter, Signature
from letters.signing.tokens import make_confirm_token, make_manage_token
from tests.factories import make_individual, make_letter, signature_row

pytestmark = pytest.mark.django_db


def all_route_patterns(resolver=None, prefix: str = "") -> list[str]:
    resolver = resolver or get_resolver()
    routes = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            routes += all_route_patterns(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            routes.append(prefix + str(pattern.pattern))
    return routes


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def test_every_public_post_needs_the_csrf_token(csrf_client, letter):
    signature = signature_row(
        letter, make_individual("Ann Example", email="ann@example.org"), status="pending"
    )
    posts = {
        "/letters/civic-space/sign/": {"kind": "individual", "name": "X", "email": "x@example.org"},
        "/letters/civic-space/sign/new-link/": {"email": "ann@example.org"},
        f"/confirm/{make_confirm_token(signature.pk)}/new-link/": {},
        f"/withdraw/{make_manage_token(signature.pk)}/": {"reason": "no"},
        "/admin/login/": {"username": "x", "password": "y"},
    }
    public_routes = [route for route in all_route_patterns() if not route.startswith("admin/")]
    posting_routes = {
        "letters/<slug:slug>/sign/",
        "letters/<slug:slug>/sign/new-link/",
        "confirm/<str:token>/new-link/",
        "withdraw/<str:token>/",
    }
    # A new POST view must be added here (and so be checked).
    assert posting_routes <= set(public_routes)
    for url, data in posts.items():
        response = csrf_client.post(url, data)
        assert response.status_code == 403, url
    signature.refresh_from_db()
    assert signature.withdrawn_at is None
    assert Signature.objects.count() == 1


def test_a_refused_form_is_explained_in_the_language_and_direction_of_its_page(csrf_client, letter):
    # Blocked cookies: Django's "403 Forbidden" page, <html lang="en"> with no dir, a note about DEBUG.
    response = csrf_client.post("/letters/civic-space/sign/?as=individual&lang=ar", {"kind": "individual"})
    assert response.status_code == 403
    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html and "<h1>تعذّر إرسال النموذج</h1>" in html
    assert "403 Forbidden" not in html and "DEBUG" not in html
    assert '<a href="/letters/civic-space/?lang=ar">' in html  # back to the letter
    # Not a letter's page: the language asked for.
    response = csrf_client.post("/confirm/some-token/new-link/?lang=ko")
    assert response.status_code == 403
    assert "<h1>양식을 보낼 수 없습니다</h1>" in response.content.decode()


def test_a_refused_form_of_a_french_letter_is_explained_in_french(csrf_client):
    # The form is French without ?lang= (the letter's language), the CSRF page was English.
    make_letter(slug="lettre", language=Letter.Language.FR, title="Protéger l’espace civique")
    assert "Signer cette lettre" in csrf_client.get("/letters/lettre/sign/").content.decode()
    response = csrf_client.post("/letters/lettre/sign/?as=individual", {"kind": "individual"})
    assert response.status_code == 403
    html = response.content.decode()
    assert '<html lang="fr" dir="ltr">' in html and "<h1>Le formulaire n’a pas pu être envoyé</h1>" in html
    assert '<a href="/letters/lettre/">Retour à la lettre</a>' in html


def test_admin_actions_need_the_csrf_token(csrf_client, letter):
    staff = User.objects.create_superuser("boss", "boss@example.org", "pw")
    csrf_client.force_login(staff)
    signature = signature_row(letter, make_individual("Ann Example"), status="confirmed", signed_at=None)
    action = {"action": "approve", "_selected_action": [signature.pk]}
    response = csrf_client.post("/admin/letters/signature/", action)
    assert response.status_code == 403
    signature.refresh_from_db()
    assert signature.status == "confirmed"
    # The same POST with the token does approve: the 403 above was the CSRF check.
    trusting = Client()
    trusting.force_login(staff)
    assert trusting.post("/admin/letters/signature/", action).status_code == 302
    signature.refresh_from_db()
    assert signature.status == "approved"


@pytest.mark.parametrize("url", ["/admin/", "/admin/letters/signature/", "/admin/letters/letter/add/"])
def test_admin_is_for_staff_only(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    User.objects.create_user("member", password="pw", is_staff=False)
    client.login(username="member", password="pw")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "https:evil.example"]
)
def test_login_never_redirects_off_site(client, target):
    User.objects.create_user("staff", password="pw", is_staff=True)
    response = client.post(
        f"/admin/login/?next={target}", {"username": "staff", "password": "pw", "next": target}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_headers_forbid_framing_sniffing_and_foreign_scripts(client, letter):
    for url in ("/", "/letters/civic-space/", "/letters/civic-space/sign/", "/admin/login/"):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp, url
        assert "frame-ancestors 'none'" in csp, url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "same-origin", url
        assert response["X-Frame-Options"] == "DENY", url


def test_public_pages_carry_no_inline_script(client, letter):
    for url in ("/", "/letters/civic-space/", "/letters/civic-space/sign/", "/letters/civic-space/print/"):
        html = client.get(url).content.decode()
        for chunk in html.split("<script")[1:]:
            assert chunk.split(">", 1)[0].strip().startswith("src="), url
        assert " onclick=" not in html and " onload=" not in html, url

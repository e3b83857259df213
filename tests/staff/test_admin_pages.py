"""Every admin page of ours uses the admin's own breadcrumbs (Django 6's <ol>) and says what it shows."""

import datetime as dt
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from letters.models import Signature
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db


def breadcrumbs(html: str) -> str:
    match = re.search(r'<nav aria-label="Breadcrumbs">\s*<ol class="breadcrumbs">(.*?)</ol>', html, re.DOTALL)
    assert match, "no admin breadcrumbs"
    return match.group(1)


@pytest.fixture
def pages(staff_client, letter):
    signature = signature_row(
        letter, make_organization("Frontline Solidarity"), status=Signature.Status.CONFIRMED
    )
    make_organization("Front Line Solidarity")
    return letter, signature


GETS = [
    "/admin/letters/signature/import/",
    "/admin/letters/signature/export/",
    "/admin/letters/signature/invalidate/",
    "/admin/signatories/organization/duplicates/",
    "/admin/signatories/individual/duplicates/",
    "/admin/letters/delivery/add/",
]


@pytest.mark.parametrize("url", GETS)
def test_custom_pages_have_the_admins_breadcrumbs(staff_client, pages, url):
    response = staff_client.get(url)

    assert response.status_code == 200
    crumbs = breadcrumbs(response.content.decode())
    assert '<a href="/admin/">Home</a>' in crumbs
    assert 'aria-current="page"' in crumbs


def test_the_letter_page_has_breadcrumbs_and_its_dated_outputs(staff_client, pages):
    letter, _ = pages
    html = staff_client.get(f"/admin/letters/letter/{letter.pk}/change/").content.decode()
    assert "Protect civic space" in breadcrumbs(html)
    assert 'id="dated-outputs"' in html


@pytest.mark.parametrize("action", ["reject", "mark_withdrawn"])
def test_the_reason_pages_have_breadcrumbs(staff_client, pages, action):
    _, signature = pages
    response = staff_client.post(
        "/admin/letters/signature/", {"action": action, ACTION_CHECKBOX_NAME: [signature.pk]}
    )
    assert response.status_code == 200
    assert '<a href="/admin/">Home</a>' in breadcrumbs(response.content.decode())


def test_the_merge_page_has_breadcrumbs(staff_client, pages):
    ids = [make_individual("Ana Pérez").pk, make_individual("Ana Perez").pk]
    response = staff_client.post(
        "/admin/signatories/individual/", {"action": "merge_selected", ACTION_CHECKBOX_NAME: ids}, follow=True
    )
    assert response.status_code == 200
    assert "Merge individuals" in breadcrumbs(response.content.decode())


def test_duplicates_use_the_admins_buttons(staff_client, pages):
    html = staff_client.get("/admin/signatories/organization/duplicates/").content.decode()
    content = html[html.index('id="content"') :]
    buttons = re.findall(r"<button[^>]*>", content)
    assert buttons and all('class="button"' in button for button in buttons)


def test_a_signature_page_is_titled_by_who_signed_what(staff_client, pages):
    letter, signature = pages
    html = staff_client.get(f"/admin/letters/signature/{signature.pk}/change/").content.decode()
    assert "Frontline Solidarity — signature on “Protect civic space”" in html
    assert " on 1<" not in html and f" on {letter.pk}<" not in html


def test_the_invalidation_preview_shows_times_in_the_letters_zone(staff_client):
    letter = make_letter(timezone="Asia/Seoul")
    moment = dt.datetime(2023, 9, 21, 5, 5, tzinfo=dt.UTC)
    signature_row(
        letter, make_individual(), status=Signature.Status.CONFIRMED, ip_hash="bot", submitted_at=moment
    )

    response = staff_client.post(
        "/admin/letters/signature/invalidate/", {"letter": letter.pk, "ip_hash": "bot", "preview": "1"}
    )

    assert "21 Sep 2023, 14:05 KST" in response.content.decode()


def test_the_queue_says_which_part_of_which_letter_it_shows(staff_client, pages):
    letter, _ = pages
    html = staff_client.get(f"/admin/letters/signature/?letter={letter.pk}&queue=awaiting").content.decode()
    assert "<h1>Signatures: awaiting approval — “Protect civic space”</h1>" in html
    html = staff_client.get("/admin/letters/signature/").content.decode()
    assert "<h1>Signatures: awaiting approval</h1>" in html


@pytest.mark.parametrize("value", ["²", "1; DROP"])
def test_a_strange_letter_in_the_queue_address_is_not_an_error(staff_client, pages, value):
    response = staff_client.get("/admin/letters/signature/", {"letter": value})
    assert response.status_code in {200, 302}


def test_a_circulating_letters_page_shows_its_private_link_and_staff_can_renew_it(staff_client):
    from django.conf import settings

    from letters.models import Letter
    from tests.factories import make_letter

    letter = make_letter(slug="quiet", status=Letter.Status.CIRCULATING)
    page = staff_client.get(f"/admin/letters/letter/{letter.pk}/change/").content.decode()
    assert settings.SITE_URL.rstrip("/") + letter.private_url() in page.replace("&amp;", "&")
    assert 'name="sign_by"' in page and 'name="publish_at"' in page
    old = letter.private_key

    response = staff_client.post(
        "/admin/letters/letter/", {"action": "private_link_renew", "_selected_action": [letter.pk]}
    )

    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.private_key and letter.private_key != old

"""
axe-core's WCAG 2.2 AA rules, in Debian's chromium, on the public pages in
every interface language (the letter's versions and the dispute form too), on
the private pages of a circulating letter (its private link, an invitation) and
on the organizer's console: the dashboard, the queue, the list of letters and
the letter form, disputes, invitations and the address book. No violation.
"""

import pytest
from django.conf import settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_public_pages_pass_wcag_22_aa_in_every_language(browser, live_server, demo, axe):
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    found = []
    try:
        for language, _name in settings.LANGUAGES:
            for path in (
                "/",
                f"/letters/{demo.slug}/",
                f"/letters/{demo.slug}/sign/",
                f"/letters/{demo.slug}/print/",
                f"/letters/{demo.slug}/versions/",
                f"/letters/{demo.slug}/dispute/",
            ):
                page.goto(f"{path}?lang={language}")
                found += [f"{path}?lang={language}: {v}" for v in axe(page)]
    finally:
        context.close()
    assert not found, "\n".join(found)


def test_a_circulating_letters_private_pages_pass_wcag_22_aa(browser, live_server, demo, axe):
    from letters.models import Invitation, Letter

    letter = Letter.objects.get(slug="civic-participation-hearings")
    invitation = Invitation.objects.filter(letter=letter, signature=None, declined_at=None).first()
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    found = []
    try:
        for language in ("en", "ko", "ar"):
            for path in (letter.private_url(), f"/invitations/{invitation.token}/"):
                separator = "&" if "?" in path else "?"
                page.goto(f"{path}{separator}lang={language}")
                assert page.locator("form").count(), path  # the form, not a 404
                found += [f"{path}: {v}" for v in axe(page)]
    finally:
        context.close()
    assert not found, "\n".join(found)


def test_the_console_passes_wcag_22_aa(demo, staff_browser_page, axe):
    page = staff_browser_page
    found = []
    for path in (
        "/admin/",
        "/admin/letters/signature/?queue=all",
        f"/admin/letters/signature/?letter__id__exact={demo.pk}",
        "/admin/letters/letter/",
        "/admin/letters/letter/add/",
        f"/admin/letters/letter/{demo.pk}/change/",
        "/admin/letters/dispute/",
        "/admin/letters/invitation/",
        "/admin/letters/invitation/address-book/",
    ):
        page.goto(path)
        found += [f"{path}: {v}" for v in axe(page)]
    assert not found, "\n".join(found)

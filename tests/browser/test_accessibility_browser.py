"""
axe-core's WCAG 2.2 AA rules, in Debian's chromium, on the public pages in
every interface language and on the organizer's console: the dashboard, the
queue, the list of letters and the letter form. No violation.
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
            ):
                page.goto(f"{path}?lang={language}")
                found += [f"{path}?lang={language}: {v}" for v in axe(page)]
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
    ):
        page.goto(path)
        found += [f"{path}: {v}" for v in axe(page)]
    assert not found, "\n".join(found)

"""
What a reader sees of every public page, in every interface language, on a
phone (390 px) and a laptop (1,280 px): nothing wider than the window — in a
right-to-left page an element pushed off to the left made the page scroll and
Chromium showed it blank.
"""

import datetime as dt

import pytest
from django.conf import settings

from letters.models import Delivery
from tests.factories import make_letter, sign_in_several_scripts

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (390, 1280)


@pytest.fixture
def public_paths(transactional_db):
    letter = sign_in_several_scripts(make_letter(slug="civic-space", title="Protect civic space"))
    Delivery.objects.create(
        letter=letter, number=1, as_of=dt.date(2023, 9, 21), recipient="The Minister", pdf=b"%PDF-"
    )
    return [
        "/",
        "/letters/civic-space/",
        "/letters/civic-space/sign/",
        "/letters/civic-space/print/",
        "/letters/civic-space/deliveries/1/",
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_no_public_page_is_wider_than_the_window_in_any_language(browser, live_server, public_paths, width):
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 800})
    page = context.new_page()
    too_wide = []
    try:
        for language, _name in settings.LANGUAGES:
            for path in public_paths:
                response = page.goto(f"{path}?lang={language}")
                assert response.status == 200, (path, language)
                scroll, window = page.evaluate(
                    "() => [document.documentElement.scrollWidth, window.innerWidth]"
                )
                if scroll > window:
                    too_wide.append(f"{path}?lang={language} at {width}px: {scroll}px wide")
    finally:
        context.close()
    assert not too_wide, "\n".join(too_wide)


def test_korean_lines_break_between_words_not_inside_them(browser, live_server, public_paths):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 800})
    page = context.new_page()
    try:
        page.goto("/letters/civic-space/?lang=ko")
        assert page.evaluate("() => getComputedStyle(document.querySelector('main')).wordBreak") == "keep-all"
        page.goto("/letters/civic-space/?lang=en-gb")
        assert page.evaluate("() => getComputedStyle(document.querySelector('main')).wordBreak") == "normal"
    finally:
        context.close()

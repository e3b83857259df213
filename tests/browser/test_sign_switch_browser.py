"""Switching between signing as an individual and for an organization keeps what was typed (no script)."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_letter

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_switching_kinds_keeps_what_was_typed(page, live_server):
    make_letter(slug="civic-space", title="Protect civic space")
    page.goto("/letters/civic-space/sign/")
    page.get_by_label("Your name").fill("Ana Pérez")
    page.get_by_label("E-mail address").fill("ana@example.org")
    expect(page.get_by_label("Name of the organization")).to_be_hidden()
    expect(page.get_by_label("Title or affiliation (optional)")).to_be_visible()

    page.get_by_label("On behalf of an organization").check()
    expect(page.get_by_label("Name of the organization")).to_be_visible()
    expect(page.get_by_label("Title or affiliation (optional)")).to_be_hidden()
    expect(page.get_by_text("The person signing on behalf of the organization")).to_be_visible()
    page.get_by_label("Name of the organization").fill("APDH")

    page.get_by_label("As an individual").check()
    expect(page.get_by_label("Your name")).to_have_value("Ana Pérez")
    expect(page.get_by_label("E-mail address")).to_have_value("ana@example.org")
    page.get_by_label("On behalf of an organization").check()
    expect(page.get_by_label("Name of the organization")).to_have_value("APDH")


def test_the_focus_ring_is_dark_enough_to_see(page, live_server):
    make_letter(slug="civic-space", title="Protect civic space")
    page.goto("/letters/civic-space/sign/")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineColor")
    assert (
        outline == "rgb(22, 71, 102)"
    )  # --accent-dark: 10:1 against the page (tests/house/test_site_css.py)

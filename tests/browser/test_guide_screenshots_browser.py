"""
The organizer's guide (docs/organizers.md) shows the console as it is: this test
walks a letter's life on the demo and saves each screenshot under docs/img/, so
the pictures change when the pages do. It also opens the guide from the dashboard.
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "organizers.md"


def shoot(page, name: str, full_page: bool = False) -> None:
    IMG.mkdir(exist_ok=True)
    page.screenshot(path=str(IMG / f"{name}.png"), full_page=full_page)


def test_the_guides_screenshots_are_taken_from_the_pages_themselves(demo, staff_browser_page):
    page = staff_browser_page
    page.goto("/admin/")
    expect(page.get_by_role("link", name="New letter")).to_be_visible()
    shoot(page, "dashboard")

    page.get_by_role("link", name="New letter").click()
    expect(page.get_by_label("Time zone")).to_be_visible()
    shoot(page, "letter-form")

    page.goto(f"/admin/letters/signature/?letter={demo.pk}&queue=awaiting")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    shoot(page, "queue")

    page.goto("/admin/signatories/individual/duplicates/")
    shoot(page, "duplicates")

    page.goto("/admin/letters/delivery/add/")
    page.get_by_label("Letter").select_option(str(demo.pk))
    page.get_by_label("As of").fill(demo.today().isoformat())
    page.locator("#id_recipient").fill("Ministry of the Interior of Veltrana")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Recording freezes the list of")).to_be_visible()
    shoot(page, "delivery-confirm", full_page=True)

    page.goto(f"/letters/{demo.slug}/")
    shoot(page, "letter-page")

    # Every picture the guide shows is one this test takes.
    pictures = set(re.findall(r"\(img/([a-z0-9-]+\.png)\)", GUIDE.read_text(encoding="utf-8")))
    assert pictures and pictures <= {path.name for path in IMG.glob("*.png")}

    page.goto("/admin/")
    page.get_by_role("link", name="Organizer’s guide").click()
    expect(page.get_by_role("heading", name="A letter from start to finish")).to_be_visible()
    # Loaded, not merely in the page (the picture arrives after the text on a busy machine).
    page.wait_for_function(
        "() => { const img = document.querySelector(\"img[src='img/dashboard.png']\");"
        " return img && img.complete && img.naturalWidth > 0; }",
        timeout=15_000,
    )

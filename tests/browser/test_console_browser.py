"""
The organizer's console at 1280×800, in Debian's chromium: log in, the
dashboard, the queue with every column on screen, approving; and screenshots
of the public pages and the PDF's roster page for people to look at.
"""

import datetime as dt
import io
import subprocess

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from letters.models import Letter, Signature
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    letter = Letter.objects.get(slug="veltrana-civic-space")
    # Two waiting for approval, as the queue usually has.
    for signature in Signature.objects.filter(letter=letter, status=Signature.Status.APPROVED)[:2]:
        Signature.objects.filter(pk=signature.pk).update(
            status=Signature.Status.CONFIRMED, approved_at=None, notes="Signed twice with different titles."
        )
    return letter


@pytest.fixture
def staff_page(browser, live_server, django_user_model):
    django_user_model.objects.create_superuser("organizer", "organizer@example.org", "a-long-password")
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(10000)
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("organizer")
    page.get_by_label("Password").fill("a-long-password")
    page.get_by_role("button", name="Log in").click()
    yield page
    context.close()


def assert_every_column_visible(page) -> None:
    """Warnings, the last column, lies inside the 1280 px window and inside the list's box, unscrolled."""
    results = page.locator("#changelist .results")
    assert results.evaluate("r => r.scrollWidth <= r.clientWidth"), "the list scrolls sideways"
    container = results.bounding_box()
    for cell in page.locator(
        "#result_list thead th.column-warnings, #result_list tbody td.field-warnings"
    ).all():
        box = cell.bounding_box()
        assert box["x"] >= container["x"] and box["x"] + box["width"] <= container["x"] + container["width"]
        assert box["x"] + box["width"] <= VIEWPORT["width"]


def test_an_organizer_sees_the_dashboard_and_the_whole_queue_and_approves(demo, staff_page, screenshot):
    page = staff_page
    page.goto("/admin/")
    expect(page.locator("#site-name")).to_have_text("Undersigned")
    card = page.locator(f"#letter-{demo.slug}")
    expect(card.get_by_role("link", name="2 awaiting approval")).to_be_visible()
    screenshot(page, "console-dashboard")

    card.get_by_role("link", name="2 awaiting approval").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    screenshot(page, "console-queue")
    assert_every_column_visible(page)
    # The queue of every letter has a letter column too, and still fits.
    page.goto("/admin/letters/signature/?queue=all")
    expect(page.locator("#result_list thead th.column-letter_title")).to_be_visible()
    assert_every_column_visible(page)
    page.go_back()

    page.locator("#result_list tbody tr").first.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("approve")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".messagelist")).to_contain_text("1 signature approved")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)


@pytest.mark.parametrize(
    "name, path",
    [
        ("import", "/admin/letters/signature/import/"),
        ("reject-in-bulk", "/admin/letters/signature/invalidate/"),
        ("duplicates", "/admin/signatories/organization/duplicates/"),
        ("letter", "/admin/letters/letter/1/change/"),
    ],
)
def test_custom_admin_pages_look_like_the_admin(demo, staff_page, screenshot, name, path):
    page = staff_page
    page.goto(path.replace("/1/", f"/{demo.pk}/"))
    crumbs = page.locator("nav[aria-label=Breadcrumbs] ol.breadcrumbs")
    expect(crumbs.get_by_role("link", name="Home")).to_be_visible()
    # The admin's own buttons: styled, never the browser's grey default.
    for button in page.locator("#content button, #content input[type=submit]").all():
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") not in {
            "rgb(239, 239, 239)",
            "rgb(240, 240, 240)",
        }
    screenshot(page, f"console-{name}")


def test_public_pages_and_the_pdf_roster_page_are_pictured(page, demo, live_server):
    page.set_viewport_size(VIEWPORT)
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"/letters/{demo.slug}/")
    expect(page.locator("h1")).to_contain_text("Protect civic space")
    page.screenshot(path=str(ARTIFACTS / "letter-page.png"), full_page=True)
    page.goto(f"/letters/{demo.slug}/sign/")
    page.screenshot(path=str(ARTIFACTS / "sign-page.png"), full_page=True)

    response = page.request.get(f"/letters/{demo.slug}/letter.pdf?as_of={dt.date.today():%Y-%m-%d}")
    assert response.ok
    pdf = ARTIFACTS / "letter.pdf"
    pdf.write_bytes(response.body())
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True)
    # The page where the list starts, with its heading and both sections' headings.
    first = next(
        n for n, page in enumerate(text.stdout.split("\f"), start=1) if "Signatory organizations" in page
    )
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            str(first),
            "-l",
            str(first),
            "-singlefile",
            str(pdf),
            str(ARTIFACTS / "pdf-roster-page"),
        ],
        check=True,
    )
    assert (ARTIFACTS / "pdf-roster-page.png").stat().st_size > 10_000

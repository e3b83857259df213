"""
Browser tests: Playwright drives Debian's chromium (never a downloaded browser)
against pytest-django's live server. `make test` installs chromium with apt.
"""

import io
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from letters.models import Letter, Signature

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="package")
def browser():
    """One chromium for the browser tests, stopped before the rest of the suite runs."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (make test does this)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in the test thread; while it
    # does, Django would refuse the tests' own queries as "async unsafe".
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(5000)
    yield page
    context.close()


@pytest.fixture
def screenshot():
    """Saves a full-page screenshot under test-artifacts/ (git-ignored) for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture
def axe():
    """
    Runs axe-core (package.json; `make test` installs it with npm ci) on a page
    against WCAG 2.2 AA and returns its violations, each as "rule: n elements
    (first selectors)". The page's context must bypass the CSP, which forbids
    the injected script.
    """
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing: npm ci (make test does this)")

    def violations(page) -> list[str]:
        page.add_script_tag(path=str(AXE))
        found = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then(r => r.violations.map("
            "v => [v.id, v.nodes.length, v.nodes.slice(0, 3).map("
            "n => n.target.join(' ') + ' — ' + n.failureSummary)]))",
            WCAG_22_AA,
        )
        return [f"{rule}: {count} elements ({', '.join(targets)})" for rule, count, targets in found]

    return violations


@pytest.fixture
def staff_browser_page(browser, live_server, django_user_model):
    """A superuser's page at 1280×800, logged in, with the CSP bypassed (for axe)."""
    django_user_model.objects.create_superuser("organizer", "organizer@example.org", "a-long-password")
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(10000)
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("organizer")
    page.get_by_label("Password").fill("a-long-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    yield page
    context.close()


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    """The demo letter, with two of its approved signatures back in the queue (awaiting approval)."""
    settings.VAR_DIR = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    letter = Letter.objects.get(slug="veltrana-civic-space")
    for signature in Signature.objects.filter(letter=letter, status=Signature.Status.APPROVED)[:2]:
        Signature.objects.filter(pk=signature.pk).update(status=Signature.Status.CONFIRMED, approved_at=None)
    return letter

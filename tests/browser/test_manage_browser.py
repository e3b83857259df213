"""The signer's page in a browser: withdrawing is a red action of its own, behind a second step."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from letters.models import Signature
from letters.signing.tokens import make_manage_token
from tests.factories import make_individual, make_letter, signature_row

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_withdrawing_takes_a_second_step_and_an_explicit_yes(browser, live_server, transactional_db, axe):
    letter = make_letter(slug="civic-space", title="Protect civic space")
    signature = signature_row(
        letter, make_individual("Jane Doe"), signed_at=dt.datetime(2023, 9, 1, 12, tzinfo=dt.UTC)
    )
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(5000)
    try:
        page.goto(f"/manage/{make_manage_token(signature.pk)}/")
        assert axe(page) == []
        final = page.get_by_role("button", name="Yes, withdraw my signature")
        expect(final).to_be_hidden()
        page.get_by_text("Withdraw my signature…").click()
        expect(final).to_be_visible()
        background = final.evaluate("b => getComputedStyle(b).backgroundColor")
        assert background == "rgb(164, 38, 44)"  # --danger, unlike "Save the correction"

        final.click()  # without "I understand": the browser keeps the form
        signature.refresh_from_db()
        assert signature.withdrawn_at is None

        page.get_by_label("I understand that my signature leaves the list").check()
        final.click()
        expect(page.get_by_text("Your signature is withdrawn.")).to_be_visible()
        signature.refresh_from_db()
        assert signature.withdrawn_at is not None
        assert signature.status == Signature.Status.APPROVED
    finally:
        context.close()

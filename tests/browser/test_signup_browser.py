import re

import pytest
from playwright.sync_api import expect

from letters.models import Signature
from letters.signing.tokens import make_manage_token
from tests.factories import make_individual, make_letter, signature_row

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def link_in(message, kind: str) -> str:
    """The path of the confirmation or withdrawal link in a message (its host is SITE_URL)."""
    return re.search(rf"/{kind}/[^/\s]+/", message.body).group(0)


def test_an_individual_signs_confirms_and_is_listed(page, live_server, mailoutbox, screenshot):
    make_letter(slug="civic-space", title="Protect civic space", requires_approval=False)
    page.goto("/letters/civic-space/")
    page.get_by_role("link", name="Sign this letter").click()
    expect(page.get_by_role("heading", name="Sign this letter")).to_be_visible()

    page.get_by_label("Your name").fill("Tomás Ojea-Quintana")
    page.get_by_label("Title or affiliation (optional)").fill("Former UN Special Rapporteur")
    page.get_by_label("Country").select_option(label="Argentina")
    page.get_by_label("E-mail address").fill("tomas@example.org")
    page.get_by_label("I sign this letter").check()
    screenshot(page, "sign-form")
    page.get_by_role("button", name="Sign the letter").click()

    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    screenshot(page, "sign-success")
    [message] = mailoutbox
    assert message.to == ["tomas@example.org"]

    page.goto(link_in(message, "confirm"))
    # Opening the link only shows the entry: the button confirms.
    expect(page.get_by_role("heading", name="Confirm your signature")).to_be_visible()
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_text("Your signature is confirmed and on the list")).to_be_visible()
    page.get_by_role("link", name="See the letter and its signatories").click()
    roster = page.locator(".roster")
    expect(roster.get_by_text("Tomás Ojea-Quintana")).to_be_visible()
    expect(roster.get_by_text("Former UN Special Rapporteur")).to_be_visible()


def test_an_organization_signs_and_awaits_approval(page, live_server, mailoutbox):
    make_letter(slug="civic-space", title="Protect civic space", requires_approval=False)
    page.goto("/letters/civic-space/sign/")
    page.get_by_label("On behalf of an organization").check()
    page.get_by_label("Name of the organization").fill("Asociación Pro Derechos Humanos")
    page.get_by_label("Acronym (optional)").fill("APDH")
    page.get_by_label("Country").select_option("AR")
    page.get_by_label("Website (optional)").fill("https://apdh.example.org")
    page.get_by_label("Your name").fill("Ana Pérez")
    page.get_by_label("E-mail address").fill("ana@apdh.example.org")
    page.get_by_label("I may sign on behalf of this organization").check()
    page.get_by_role("button", name="Sign the letter").click()
    expect(page.get_by_text("the organizers review the signature")).to_be_visible()

    [message] = mailoutbox
    page.goto(link_in(message, "confirm"))
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_text("awaiting approval by the organizers")).to_be_visible()
    assert Signature.objects.get().status == Signature.Status.CONFIRMED
    page.goto("/letters/civic-space/")
    expect(page.locator(".roster").get_by_text("Asociación Pro Derechos Humanos")).to_have_count(0)


def test_a_signer_withdraws(page, live_server):
    letter = make_letter(slug="civic-space", title="Protect civic space")
    signature = signature_row(letter, make_individual("Jane Withdrawer", email="jane@example.org"))
    page.goto("/letters/civic-space/")
    expect(page.locator(".roster").get_by_text("Jane Withdrawer")).to_be_visible()

    page.goto(f"/withdraw/{make_manage_token(signature.pk)}/")  # an old link leads to the signer's page
    expect(page.get_by_role("heading", name="Withdraw your signature")).to_be_visible()
    page.get_by_text("Withdraw my signature…").click()  # the second step
    page.get_by_label("Reason (optional").fill("I changed jobs.")
    page.get_by_label("I understand that my signature leaves the list").check()
    page.get_by_role("button", name="Yes, withdraw my signature").click()
    expect(page.get_by_text("Your signature is withdrawn")).to_be_visible()

    page.goto("/letters/civic-space/")
    expect(page.locator(".roster").get_by_text("Jane Withdrawer")).to_have_count(0)
    signature.refresh_from_db()
    assert signature.withdrawal_reason == "I changed jobs."


def test_a_form_with_errors_keeps_what_was_typed(page, live_server, mailoutbox, screenshot):
    make_letter(slug="civic-space", title="Protect civic space")
    page.goto("/letters/civic-space/sign/")
    page.get_by_label("Your name").fill("Jane Doe")
    page.get_by_label("Title or affiliation (optional)").fill("Professor")
    page.get_by_label("E-mail address").fill("jane-at-example.org")
    page.get_by_role("button", name="Sign the letter").click()

    expect(page.get_by_text("Please correct the fields marked below")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value("Jane Doe")
    expect(page.get_by_label("Title or affiliation (optional)")).to_have_value("Professor")
    expect(page.get_by_label("E-mail address")).to_have_value("jane-at-example.org")
    # The message is tied to its field for screen readers, and shown next to it.
    expect(page.get_by_label("E-mail address")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_email_error")).to_have_text("Enter a valid email address.")
    expect(page.locator("#id_public_consent_error")).to_contain_text("agree to its publication")
    screenshot(page, "sign-form-errors")
    assert not mailoutbox
    assert not Signature.objects.exists()


def test_the_form_works_with_the_keyboard_and_without_javascript(browser, live_server, mailoutbox):
    make_letter(slug="civic-space", title="Protect civic space")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/letters/civic-space/sign/")
        page.get_by_label("Your name").focus()
        page.keyboard.type("Kim Keyboard")
        page.keyboard.press("Tab")  # family name
        page.keyboard.press("Tab")  # title
        page.keyboard.press("Tab")  # country
        page.keyboard.press("Tab")  # e-mail
        page.keyboard.type("kim@example.org")
        page.keyboard.press("Tab")  # how to publish: the chosen one of its radio buttons
        page.keyboard.press("Tab")  # consent to publish as chosen
        page.keyboard.press("Space")
        page.keyboard.press("Tab")  # contact consent
        page.keyboard.press("Tab")  # the button: the hidden honeypot is never reached
        expect(page.get_by_role("button", name="Sign the letter")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    finally:
        context.close()
    assert Signature.objects.get().individual.name == "Kim Keyboard"
    assert len(mailoutbox) == 1

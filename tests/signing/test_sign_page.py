"""The sign page: both kinds on one form, so switching keeps what was typed; optional fields say so."""

import re

import pytest

from letters.signing.forms import FORMS, HONEYPOT_FIELD

pytestmark = pytest.mark.django_db

URL = "/letters/civic-space/sign/"


def value_of(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, name
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def test_one_form_carries_both_kinds_with_a_switch_that_needs_no_script(client, letter):
    html = client.get(URL).content.decode()

    assert 'type="radio" name="kind" value="individual" id="kind-individual" checked' in html
    assert 'type="radio" name="kind" value="organization" id="kind-organization">' in html
    for name in ["name", "title", "country", "organization_name", "acronym", "website", "email"]:
        assert html.count(f'name="{name}"') == 1, name
    assert "<script" not in html


def test_what_was_typed_for_the_other_kind_comes_back_after_an_error(client, letter):
    # Started as an organization, then switched to individual and forgot the consent.
    data = {
        "kind": "individual",
        "name": "Ana Pérez",
        "title": "Lawyer",
        "organization_name": "Asociación Pro Derechos Humanos",
        "acronym": "APDH",
        "website": "https://apdh.example.org",
        "email": "ana@example.org",
    }

    response = client.post(URL, data)

    assert response.status_code == 400
    html = response.content.decode()
    assert value_of(html, "name") == "Ana Pérez"
    assert value_of(html, "title") == "Lawyer"
    assert value_of(html, "organization_name") == "Asociación Pro Derechos Humanos"
    assert value_of(html, "acronym") == "APDH"
    assert value_of(html, "website") == "https://apdh.example.org"
    assert 'value="individual" id="kind-individual" checked' in html


def test_the_organization_link_still_opens_the_form_on_organization(client, letter):
    html = client.get(URL + "?as=organization").content.decode()
    assert 'value="organization" id="kind-organization" checked' in html


def test_optional_fields_say_so_in_their_labels():
    for form in FORMS.values():
        for name, field in form.base_fields.items():
            # A checkbox, or radio buttons with one always checked, cannot be left empty.
            if (
                name != HONEYPOT_FIELD
                and not field.required
                and field.widget.input_type not in ("checkbox", "radio")
            ):
                assert "(optional)" in str(field.label), field.label


def test_the_sign_pages_say_the_link_opens_a_page_with_a_button(client, letter):
    # They said the signature counts "once you open" the link; the link opens a page with a button.
    sign = client.get("/letters/civic-space/sign/").content.decode()
    done = client.get("/letters/civic-space/sign/thanks/").content.decode()

    assert "once you open" not in sign
    assert "press the button on the page it opens" in sign
    assert "press the button on the page it opens to confirm your signature" in done

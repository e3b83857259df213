"""A signature's page in the staff panel: transitions are actions with their rules; the form changes none."""

import datetime as dt

import pytest

from letters import lifecycle
from letters.models import Signature
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2023, 9, 1, 12, tzinfo=dt.UTC)


def change_url(signature) -> str:
    return f"/admin/letters/signature/{signature.pk}/change/"


def submit_change_form(client, signature, **changes):
    """POST the change form as a browser would, with every field it shows, plus `changes`."""
    page = client.get(change_url(signature))
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {name: ("" if value is None else value) for name, value in data.items()}
    data.update({"corrections-TOTAL_FORMS": "0", "corrections-INITIAL_FORMS": "0"}, **changes, _save="Save")
    return client.post(change_url(signature), data)


@pytest.fixture(params=["staff_client", "moderator_client"])
def any_staff(request):
    return request.getfixturevalue(request.param)


def test_the_change_form_shows_the_lifecycle_read_only(any_staff, letter):
    signature = signature_row(
        letter, make_individual("Jane Doe"), status="pending", contact_email="jane@example.org"
    )
    html = any_staff.get(change_url(signature)).content.decode()
    for field in ("status", "signed_at", "withdrawn_at", "letter", "individual"):
        assert f'name="{field}"' not in html, field
    assert 'name="notes"' in html


def test_the_change_form_cannot_approve_an_unconfirmed_web_signature(any_staff, letter, client):
    # Issue #10, 1: setting status to approved published a signature nobody confirmed.
    signature = signature_row(
        letter, make_individual("Jane Doe"), status="pending", contact_email="jane@example.org"
    )

    response = submit_change_form(any_staff, signature, status="approved", signed_at="2023-09-01 00:00")

    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING and signature.signed_at is None
    assert "Jane Doe" not in client.get("/letters/civic-space/").content.decode()


def test_the_change_form_cannot_clear_a_withdrawal(any_staff, letter):
    withdrawn = dt.datetime(2023, 9, 5, tzinfo=dt.UTC)
    signature = signature_row(
        letter, make_individual("Jane Doe"), withdrawn_at=withdrawn, withdrawal_reason="Left"
    )

    submit_change_form(any_staff, signature, withdrawn_at="", withdrawal_reason="")

    signature.refresh_from_db()
    assert (signature.withdrawn_at, signature.withdrawal_reason) == (withdrawn, "Left")


def test_the_change_form_cannot_move_a_signature_or_its_date(any_staff, letter):
    closed = make_letter(slug="closed-letter", status="closed")
    signature = signature_row(letter, make_individual("Jane Doe"), signed_at=T0)
    someone_else = make_individual("Someone Else")

    submit_change_form(
        any_staff,
        signature,
        letter=closed.pk,
        individual=someone_else.pk,
        signed_at="2020-01-01 00:00",
    )

    signature.refresh_from_db()
    assert (signature.letter, signature.individual.name, signature.signed_at) == (letter, "Jane Doe", T0)
    assert not Signature.objects.filter(letter=closed).exists()


def test_the_approve_action_on_the_page_refuses_an_unconfirmed_web_signature(any_staff, letter):
    signature = signature_row(
        letter, make_individual("Jane Doe"), status="pending", contact_email="jane@example.org"
    )

    response = any_staff.post(
        change_url(signature),
        {"CHANGE_FORM-action": "approve", "_selected_action": [signature.pk]},
        follow=True,
    )

    assert "left as they were" in response.content.decode()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING


def test_the_reject_action_on_the_page_asks_for_a_reason_then_rejects(staff_client, letter):
    signature = signature_row(
        letter, make_organization("Org"), status="confirmed", confirmed_at=T0, signed_at=T0
    )

    page = staff_client.post(
        change_url(signature), {"CHANGE_FORM-action": "reject", "_selected_action": [signature.pk]}
    )
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    staff_client.post(
        "/admin/letters/signature/",
        {"action": "reject", "_selected_action": [signature.pk], "apply": "1", "reason": "Impostor"},
    )

    signature.refresh_from_db()
    assert (signature.status, signature.rejection_reason) == ("rejected", "Impostor")


def test_staff_can_still_enter_a_signature_by_hand(staff_client, letter, client):
    person = make_individual("Paper Signer")

    response = staff_client.post(
        "/admin/letters/signature/add/",
        {
            "letter": letter.pk,
            "individual": person.pk,
            "organization": "",
            "signed_at": "2023-09-02 10:00",
            "public_consent": "on",
            "notes": "Signed on paper at the conference.",
            "corrections-TOTAL_FORMS": "0",
            "corrections-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    signature = Signature.objects.get(individual=person)
    assert (signature.status, signature.source) == ("approved", "staff")
    assert "Paper Signer" in client.get("/letters/civic-space/?as_of=2023-09-21").content.decode()


def test_a_signature_entered_without_consent_to_publish_is_refused_and_consent_stays_as_given(
    staff_client, letter, client
):
    # Entered with "public consent" unticked, or unticked later on its page, the name was published anyway.
    person = make_individual("Paper Signer")

    response = staff_client.post(
        "/admin/letters/signature/add/",
        {"letter": letter.pk, "individual": person.pk, "signed_at": "2023-09-02 10:00"},
    )

    assert response.status_code == 200
    assert "listed only with its signer&#x27;s consent" in response.content.decode()
    assert not Signature.objects.filter(individual=person).exists()

    signature = signature_row(letter, person, signed_at=T0)
    staff_client.post(
        f"/admin/letters/signature/{signature.pk}/change/",
        {"notes": "", "corrections-TOTAL_FORMS": "0", "corrections-INITIAL_FORMS": "0"},
    )
    signature.refresh_from_db()
    assert signature.public_consent is True


def test_entering_someone_already_listed_is_refused_next_to_the_field(staff_client, letter):
    person = make_individual("Listed Already")
    signature_row(letter, person, signed_at=T0)

    response = staff_client.post(
        "/admin/letters/signature/add/",
        {
            "letter": letter.pk,
            "individual": person.pk,
            "signed_at": "2023-09-02 10:00",
            "public_consent": "on",
        },
    )

    assert response.status_code == 200
    assert "cannot be listed twice" in response.content.decode()
    assert Signature.objects.filter(individual=person).count() == 1


def test_a_time_entered_by_hand_is_read_on_the_letters_clock(staff_client, client):
    # The add page has no letter until one is chosen: "21 Sep 2023, 00:00" was read as UTC,
    # the 20th in New York, and the name showed on the list of a day before it was signed.
    letter = make_letter(slug="new-york", timezone="America/New_York")
    person = make_individual("Paper Signer")

    response = staff_client.post(
        "/admin/letters/signature/add/",
        {
            "letter": letter.pk,
            "individual": person.pk,
            "signed_at": "21 Sep 2023, 00:00",
            "public_consent": "on",
        },
    )

    assert response.status_code == 302
    signature = Signature.objects.get(individual=person)
    assert signature.signed_at == dt.datetime(2023, 9, 21, 4, tzinfo=dt.UTC)
    assert "Paper Signer" in client.get("/letters/new-york/?as_of=2023-09-21").content.decode()
    assert "Paper Signer" not in client.get("/letters/new-york/?as_of=2023-09-20").content.decode()


@pytest.mark.parametrize("typed", ["0001-01-01 00:00", "1899-12-31 23:00"])
def test_a_day_before_any_letter_is_refused_next_to_the_field(staff_client, client, typed):
    # Stored, the year 1 took down every list of a letter west of UTC (no start of day there).
    letter = make_letter(slug="new-york", timezone="America/New_York")
    person = make_individual("Paper Signer")

    response = staff_client.post(
        "/admin/letters/signature/add/",
        {"letter": letter.pk, "individual": person.pk, "signed_at": typed, "public_consent": "on"},
    )

    assert response.status_code == 200
    assert "Enter a day after 1 January 1900" in response.content.decode()
    assert not Signature.objects.filter(individual=person).exists()
    assert client.get("/letters/new-york/").status_code == 200


def test_a_letter_id_no_database_can_hold_is_refused_not_a_500(staff_client):
    response = staff_client.get("/admin/letters/signature/?letter=" + "9" * 30)
    assert response.status_code in {200, 302}


def test_an_erased_signature_s_page_saved_from_before_the_erasure_brings_nothing_back(staff_client, letter):
    signature = signature_row(
        letter,
        make_organization("Org"),
        contact_email="dana@org.example",
        signer_name="Dana Director",
        notes="Called her on Monday",
    )
    page = staff_client.get(change_url(signature))
    form = page.context["adminform"].form
    stale = {name: ("" if form[name].value() is None else form[name].value()) for name in form.fields}
    lifecycle.signature_erase(signature=signature)

    staff_client.post(
        change_url(signature),
        {**stale, "corrections-TOTAL_FORMS": "0", "corrections-INITIAL_FORMS": "0", "_save": "Save"},
    )

    signature.refresh_from_db()
    assert (signature.contact_email, signature.signer_name, signature.notes) == ("", "", "")
    html = staff_client.get(change_url(signature)).content.decode()
    for field in ("contact_email", "signer_name", "notes"):
        assert f'name="{field}"' not in html, field


def test_a_never_approved_claim_cannot_rewrite_a_listed_organization(moderator_client, letter):
    # The claimant proposed acronym "supports the law" from the manage link; the corrections list showed
    # no claim status or domain; a Moderator approved; every day's list printed the new acronym.
    from django.core.exceptions import ValidationError

    from letters.models import Correction

    acat = make_organization("ACAT UK", acronym="ACAT", website="https://acat.org.uk")
    signature_row(letter, acat, source=Signature.Source.IMPORT)
    claim = signature_row(
        make_letter(),
        acat,
        status=Signature.Status.CONFIRMED,
        source=Signature.Source.FORM,
        contact_email="someone@gmail.com",
        confirmed_at=dt.datetime(2023, 9, 2, tzinfo=dt.UTC),
    )
    entry = {"name": "ACAT UK", "acronym": "supports the law", "website": acat.website, "country": ""}
    with pytest.raises(ValidationError):
        lifecycle.correction_propose(signature=claim, entry=entry, confirmed=True)
    waiting = Correction.objects.create(
        signature=claim, name="ACAT UK", acronym="supports the law", status=Correction.Status.CONFIRMED
    )

    page = moderator_client.get("/admin/letters/correction/").content.decode()
    assert "confirmed, never approved" in page and "gmail.com" in page
    moderator_client.post(
        "/admin/letters/correction/", {"action": "approve", "_selected_action": [waiting.pk]}
    )

    acat.refresh_from_db()
    assert acat.acronym == "ACAT"
    waiting.refresh_from_db()
    assert waiting.status == Correction.Status.CONFIRMED


# An Organizer's new contact address proves itself before it receives anything.


def _address_link(message) -> str:
    import re

    return re.search(r"https?://[^/\s]+(/confirm-address/[^/\s]+/)", message.body).group(1)


def test_an_organizers_new_contact_address_receives_nothing_but_its_own_link_until_confirmed(
    staff_client, client, letter, django_capture_on_commit_callbacks
):
    from django.core import mail

    signature = signature_row(
        letter, make_individual("Jane Doe"), status="pending", contact_email="jane@example.org"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = submit_change_form(staff_client, signature, contact_email="typo@example.net")

    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.contact_email == "jane@example.org"  # every other e-mail still goes here
    assert signature.pending_contact_email == "typo@example.net"
    [message] = mail.outbox
    assert message.to == ["typo@example.net"]
    assert (
        "Jane Doe" not in message.body and "/manage/" not in message.body and "/confirm/" not in message.body
    )
    link = _address_link(message)

    opened = client.get(link)  # a mail scanner opening the link changes nothing
    assert opened.status_code == 200 and "Confirm this address" in opened.content.decode()
    signature.refresh_from_db()
    assert signature.contact_email == "jane@example.org"

    done = client.post(link)
    assert done.status_code == 200 and "Address confirmed" in done.content.decode()
    signature.refresh_from_db()
    assert (signature.contact_email, signature.pending_contact_email) == ("typo@example.net", "")
    assert signature.contact_mailbox == "typo@example.net"
    assert "Address confirmed" not in client.post(link).content.decode()  # once


def test_a_link_for_an_address_replaced_since_confirms_nothing(
    staff_client, client, letter, django_capture_on_commit_callbacks
):
    from django.core import mail

    signature = signature_row(letter, make_individual("Jane Doe"), contact_email="jane@example.org")
    for address in ("first@example.net", "second@example.net"):
        with django_capture_on_commit_callbacks(execute=True):
            submit_change_form(staff_client, signature, contact_email=address)
    assert [message.to for message in mail.outbox] == [["first@example.net"], ["second@example.net"]]
    first, second = (_address_link(message) for message in mail.outbox)

    assert "no longer applies" in client.post(first).content.decode()
    signature.refresh_from_db()
    assert signature.contact_email == "jane@example.org"
    client.post(second)
    signature.refresh_from_db()
    assert signature.contact_email == "second@example.net"


def test_a_bad_address_link_is_a_400_and_an_erasure_forgets_the_address_waiting(
    staff_client, client, letter, django_capture_on_commit_callbacks
):
    from django.core import mail

    signature = signature_row(letter, make_individual("Jane Doe"), contact_email="jane@example.org")
    assert client.get("/confirm-address/not-a-token/").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        submit_change_form(staff_client, signature, contact_email="new@example.net")
    link = _address_link(mail.outbox[0])
    lifecycle.signature_erase(signature=signature)

    assert client.post(link).status_code == 400
    signature.refresh_from_db()
    assert (signature.contact_email, signature.pending_contact_email) == ("", "")

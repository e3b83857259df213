"""The signer's page, /manage/<token>/: the entry as printed; correct, withdraw, erase (all POST)."""

import datetime as dt
import re
import time
from unittest import mock

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from letters import lifecycle
from letters.lifecycle.merging import individual_merge, organization_merge
from letters.models import Correction, Signature
from letters.outputs.deliveries import delivery_record
from letters.signing.tokens import (
    make_confirm_token,
    make_correction_token,
    make_manage_token,
    read_manage_token,
)
from signatories.models import Individual
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    def post(url, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, {"action": "withdraw", "understood": "on", **(data or {})})

    return post


@pytest.fixture
def signature(letter):
    individual = make_individual("Jane Doe", title="Professor", email="jane@example.org")
    signed_at = dt.datetime(2023, 9, 1, 12, tzinfo=dt.UTC)
    return signature_row(letter, individual, signed_at=signed_at, contact_email="jane@example.org")


def url(signature: Signature) -> str:
    return f"/manage/{make_manage_token(signature.pk)}/"


def test_the_page_shows_the_entry_and_a_button_for_each_action(client, signature):
    response = client.get(url(signature))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Jane Doe" in html and "Professor" in html and "Protect civic space" in html
    for action in ("correct", "withdraw", "erase"):
        assert f'name="action" value="{action}"' in html
    assert "Withdraw my signature" in html
    assert "jane@example.org" not in html


def test_opening_the_link_never_changes_anything(client, signature):
    client.get(url(signature))
    client.head(url(signature))
    client.get(url(signature) + "?action=erase&confirm=yes")
    signature.refresh_from_db()
    assert signature.withdrawn_at is None
    assert signature.erased_at is None


def test_the_old_withdrawal_links_lead_to_the_signers_page(client, signature):
    token = make_manage_token(signature.pk)
    response = client.get(f"/withdraw/{token}/")
    assert response.status_code == 302
    assert response["Location"] == f"/manage/{token}/"


def test_the_button_withdraws_and_the_roster_follows_the_as_of_rule(client, post, signature):
    response = post(url(signature), {"reason": "  Changed jobs.\n"})
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.withdrawn_at is not None
    assert signature.withdrawal_reason == "Changed jobs."
    assert signature.status == Signature.Status.APPROVED  # a state with a timestamp, not a deletion

    today = client.get("/letters/civic-space/").content.decode()
    assert "Jane Doe" not in today
    before = client.get("/letters/civic-space/?as_of=2023-09-21").content.decode()
    assert "Jane Doe" in before

    html = client.get(response["Location"]).content.decode()
    assert "Your signature is withdrawn" in html
    [receipt] = mail.outbox
    assert receipt.to == ["jane@example.org"]
    assert receipt.subject == "Your signature was withdrawn: Protect civic space"


def test_withdrawing_twice_keeps_the_first_date(post, signature):
    post(url(signature))
    signature.refresh_from_db()
    first = signature.withdrawn_at
    post(url(signature), {"reason": "again"})
    signature.refresh_from_db()
    assert signature.withdrawn_at == first
    assert signature.withdrawal_reason == ""
    assert len(mail.outbox) == 1


def test_a_pending_signature_can_be_withdrawn_and_then_never_confirmed(client, post, letter):
    pending = signature_row(
        letter, make_organization("Open Society"), status="pending", contact_email="a@example.org"
    )
    post(url(pending))
    client.post(f"/confirm/{make_confirm_token(pending.pk)}/")
    pending.refresh_from_db()
    assert pending.withdrawn_at is not None
    assert pending.status == Signature.Status.PENDING


def test_an_over_long_reason_is_refused_and_nothing_changes(post, signature):
    response = post(url(signature), {"reason": "x" * 501})
    assert response.status_code == 400
    assert "at most 500 characters" in response.content.decode()
    signature.refresh_from_db()
    assert signature.withdrawn_at is None


def test_control_characters_in_the_reason_are_dropped(post, signature):
    post(url(signature), {"reason": "bye\x07 now"})
    signature.refresh_from_db()
    assert signature.withdrawal_reason == "bye now"


def test_a_null_character_in_the_reason_is_refused_next_to_the_field(post, signature):
    response = post(url(signature), {"reason": "bye\x00 now"})
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    signature.refresh_from_db()
    assert signature.withdrawn_at is None


@pytest.mark.parametrize("token", ["nonsense", "MQ:1abc:forged"])
def test_a_tampered_link_withdraws_nothing(client, signature, token):
    assert client.get(f"/manage/{token}/").status_code == 400
    response = client.post(f"/manage/{token}/", {"action": "withdraw", "understood": "on"})
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    signature.refresh_from_db()
    assert signature.withdrawn_at is None


def test_a_confirmation_token_does_not_withdraw(client, signature):
    response = client.post(
        f"/manage/{make_confirm_token(signature.pk)}/", {"action": "withdraw", "understood": "on"}
    )
    assert response.status_code == 400
    signature.refresh_from_db()
    assert signature.withdrawn_at is None


def test_one_signatures_link_never_acts_on_another(client, letter, signature):
    other = signature_row(letter, make_individual("Other Person"))
    client.post(url(other), {"action": "withdraw", "understood": "on"})
    signature.refresh_from_db()
    other.refresh_from_db()
    assert signature.withdrawn_at is None
    assert other.withdrawn_at is not None
    assert other.withdrawn_at <= timezone.now()


@pytest.mark.parametrize("kind", ["confirm", "already-signed", "withdrawn", "correction"])
def test_every_message_to_the_signer_links_to_their_page(signature, kind):
    from letters.signing.tasks import signature_email

    correction = Correction.objects.create(signature=signature, name="Jane Q. Doe")
    message = signature_email(signature, kind, correction_id=correction.pk)
    # The token carries the second it was made: read it back rather than remake it.
    pattern = r"http://127\.0\.0\.1:8000/manage/([\w:-]+)/"
    for text in (message.body, message.alternatives[0].content):  # plain text and HTML
        tokens = re.findall(pattern, text)
        assert tokens, text
        assert {read_manage_token(token) for token in tokens} == {signature.pk}
    assert "\n" not in message.subject


def test_the_withdrawal_receipt_gives_the_letters_day_as_the_signers_page_does(client, letter):
    # 22:00 in New York on 21 September: the page said "Retirée le 21 septembre 2023", the receipt the 22nd.
    from letters.signing.tasks import signature_email

    signature = signature_row(
        letter,
        make_individual("Jeanne", email="jeanne@example.org"),
        signed_at=dt.datetime(2023, 9, 1, tzinfo=dt.UTC),
        withdrawn_at=dt.datetime(2023, 9, 22, 2, tzinfo=dt.UTC),
        language="fr",
    )
    assert "21 septembre 2023" in client.get(url(signature)).content.decode()
    message = signature_email(signature, "withdrawn")
    for text in (message.body, message.alternatives[0].content):  # plain text and HTML
        assert "21 septembre 2023" in text and "22 septembre" not in text


def test_an_unknown_action_is_refused_and_changes_nothing(client, signature):
    response = client.post(url(signature), {"action": "approve"})
    assert response.status_code == 400
    signature.refresh_from_db()
    assert (signature.status, signature.withdrawn_at, signature.erased_at) == ("approved", None, None)


# -- correct ------------------------------------------------------------------


def test_a_correction_prints_at_once_where_the_letter_needs_no_approval(client):
    letter = make_letter(slug="open-letter", requires_approval=False)
    signature = signature_row(
        letter, make_individual("Jane Doe", title="Professor", email="jane@example.org")
    )

    response = client.post(url(signature), {"action": "correct", "name": "Jane Doe", "title": "Dean of Law"})

    assert response.status_code == 302
    assert "Dean of Law" in client.get("/letters/open-letter/").content.decode()


def test_a_correction_waits_for_staff_where_the_letter_requires_approval(client, signature):
    client.post(url(signature), {"action": "correct", "name": "Jane Doe", "title": "Dean of Law"})

    page = client.get("/letters/civic-space/").content.decode()
    assert "Dean of Law" not in page and "Professor" in page
    [correction] = Correction.objects.filter(signature=signature)
    assert correction.status == Correction.Status.CONFIRMED
    assert "awaits the organizers" in client.get(url(signature)).content.decode()


def test_someone_typing_the_signers_address_into_the_form_does_not_cancel_her_proven_correction(
    client, signature, django_capture_on_commit_callbacks
):
    client.post(url(signature), {"action": "correct", "name": "Jane Doe", "title": "Independent researcher"})
    [hers] = Correction.objects.filter(signature=signature)
    assert hers.status == Correction.Status.CONFIRMED

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/letters/civic-space/sign/",
            {
                "kind": "individual",
                "name": "Jane Doe",
                "title": "Anything",
                "email": "jane@example.org",
                "public_consent": "on",
            },
        )

    hers.refresh_from_db()
    assert hers.status == Correction.Status.CONFIRMED
    assert "awaits the organizers" in client.get(url(signature)).content.decode()
    # The stranger's proposal waits for a link only Jane receives; confirmed, it would replace hers.
    [theirs] = Correction.objects.filter(signature=signature, status=Correction.Status.PENDING)
    assert [m.to for m in mail.outbox][-1] == ["jane@example.org"]
    lifecycle.correction_confirm(correction=theirs)
    hers.refresh_from_db()
    assert hers.status == Correction.Status.SUPERSEDED


def test_an_empty_name_is_refused_next_to_the_field(client, signature):
    response = client.post(url(signature), {"action": "correct", "name": "  ", "title": "x"})
    assert response.status_code == 400
    assert 'id="id_name_error"' in response.content.decode() or "errorlist" in response.content.decode()
    assert not Correction.objects.exists()


def test_an_expired_correction_link_says_it_has_expired(client, signature):
    # It said "This link is not valid", as for a damaged link, though the confirmation link says "expired".
    correction = Correction.objects.create(signature=signature, name="Jane Q. Doe")
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 30 * 86400):
        token = make_correction_token(correction.pk)
    response = client.get(f"/confirm-correction/{token}/")
    assert response.status_code == 400
    html = response.content.decode()
    assert "This link has expired" in html and "This link is not valid" not in html
    assert "Links to confirm a change work for a limited time" in html
    assert client.post(f"/confirm-correction/{token}/").status_code == 400
    correction.refresh_from_db()
    assert correction.status == Correction.Status.PENDING


def test_a_correction_link_opened_after_withdrawing_changes_nothing(client, signature):
    # The signer's page refused to correct a withdrawn signature, but the link of a
    # correction sent before the withdrawal still rewrote the name on the earlier days' lists.
    letter = signature.letter
    letter.requires_approval = False
    letter.save()
    correction = Correction.objects.create(signature=signature, name="Jane Q. Doe", title="Professor")
    client.post(url(signature), {"action": "withdraw", "understood": "on"})
    token = make_correction_token(correction.pk)

    page = client.get(f"/confirm-correction/{token}/").content.decode()
    assert "This signature was withdrawn." in page and "Confirm this change" not in page
    assert client.post(f"/confirm-correction/{token}/").status_code == 302

    correction.refresh_from_db()
    assert correction.status == Correction.Status.WITHDRAWN
    signature.individual.refresh_from_db()
    assert signature.individual.name == "Jane Doe"
    assert "Jane Q. Doe" not in client.get("/letters/civic-space/?as_of=2023-09-02").content.decode()


def test_withdrawing_takes_a_confirmed_correction_out_of_the_organizers_hands(client, signature, moderator):
    client.post(url(signature), {"action": "correct", "name": "Jane Doe", "title": "Dean of Law"})
    [correction] = Correction.objects.filter(signature=signature, status=Correction.Status.CONFIRMED)
    client.post(url(signature), {"action": "withdraw", "understood": "on"})

    outcome = lifecycle.corrections_approve(corrections=Correction.objects.all(), user=moderator)

    assert outcome.changed == 0
    correction.refresh_from_db()
    assert correction.status == Correction.Status.WITHDRAWN
    signature.individual.refresh_from_db()
    assert signature.individual.title == "Professor"


def test_staff_withdrawing_on_the_signers_word_also_ends_her_waiting_correction(client, signature, moderator):
    client.post(url(signature), {"action": "correct", "name": "Jane Doe", "title": "Dean of Law"})
    lifecycle.signatures_withdraw(signatures=Signature.objects.filter(pk=signature.pk), user=moderator)

    [correction] = Correction.objects.filter(signature=signature)
    assert correction.status == Correction.Status.WITHDRAWN
    assert lifecycle.corrections_approve(corrections=Correction.objects.all(), user=moderator).changed == 0


def test_a_withdrawn_signature_takes_no_new_correction(signature):
    lifecycle.signature_withdraw(signature=signature)
    with pytest.raises(ValidationError):
        lifecycle.correction_propose(signature=signature, entry={"name": "Jane Q. Doe"}, confirmed=True)
    assert not Correction.objects.exists()


def test_corrections_left_waiting_by_an_earlier_withdrawal_end_with_it(client, signature):
    # Withdrawals made before they ended the corrections left them waiting: the link still offered
    # "Confirm this change" (which did nothing), the signer's page still said the organizers would
    # review one, and the queue still listed it.
    import importlib

    from django.apps import apps

    migration = importlib.import_module("letters.migrations.0015_corrections_of_earlier_withdrawals")
    proposed = Correction.objects.create(signature=signature, name="Jane Q. Doe")
    confirmed = Correction.objects.create(
        signature=signature, name="Jane Doe", title="Dean", status="confirmed"
    )
    withdrawn_at = timezone.now() - dt.timedelta(days=3)
    Signature.objects.filter(pk=signature.pk).update(withdrawn_at=withdrawn_at)
    migration.end_corrections(apps, None)

    for correction in (proposed, confirmed):
        correction.refresh_from_db()
        assert (correction.status, correction.decided_at) == (Correction.Status.WITHDRAWN, withdrawn_at)
    page = client.get(f"/confirm-correction/{make_correction_token(proposed.pk)}/").content.decode()
    assert "This signature was withdrawn." in page and "Confirm this change" not in page
    assert "awaits the organizers" not in client.get(url(signature)).content.decode()


# -- erase --------------------------------------------------------------------


def test_erasing_asks_a_second_time_before_anything_happens(client, signature):
    response = client.post(url(signature), {"action": "erase"})
    assert response.status_code == 200
    assert 'name="confirm" value="yes"' in response.content.decode()
    signature.refresh_from_db()
    assert signature.erased_at is None


def test_an_erased_name_leaves_every_list_of_every_day_and_its_private_data_goes(client, signature, letter):
    # Issue #12, 10: a withdrawn signer stayed on every earlier day's list; nobody could take it off.
    other = signature_row(
        letter, make_individual("Other Person"), signed_at=dt.datetime(2023, 9, 1, tzinfo=dt.UTC)
    )
    delivery = delivery_record(letter=letter, as_of=dt.date(2023, 9, 21), recipient="The Minister")
    assert "Jane Doe" in client.get(f"/letters/civic-space/deliveries/{delivery.number}/").content.decode()

    response = client.post(url(signature), {"action": "erase", "confirm": "yes"})

    assert response.status_code == 302
    for page in [
        "/letters/civic-space/",
        "/letters/civic-space/?as_of=2023-09-21",
        "/letters/civic-space/print/?as_of=2023-09-21",
        "/letters/civic-space/signatories.csv?as_of=2023-09-21",
        "/letters/civic-space/signatories.json?as_of=2023-09-21",
        f"/letters/civic-space/deliveries/{delivery.number}/",
    ]:
        body = (
            b"".join(client.get(page)) if page.endswith("csv?as_of=2023-09-21") else client.get(page).content
        )
        assert b"Jane Doe" not in body, page
        assert b"Other Person" in body, page
    delivered = client.get(f"/letters/civic-space/deliveries/{delivery.number}/").content.decode()
    assert "1 name was removed at the signer’s request since this delivery" in delivered
    assert delivery.pdf_sha256 in delivered
    assert client.get(f"/letters/civic-space/deliveries/{delivery.number}/letter.pdf").status_code == 410

    signature.refresh_from_db()
    assert signature.erased_at is not None
    assert (signature.contact_email, signature.ip_hash, signature.signer_name, signature.notes) == ("",) * 4
    person = Individual.objects.get(pk=signature.individual_id)
    assert "Jane" not in person.name and person.email == "" and person.title == ""
    assert other.individual.name == "Other Person"


def test_a_correction_waits_for_staff_where_another_letter_listing_the_signer_requires_approval(client, post):
    # Jane is listed on two letters; only the other one has its organizers review every entry.
    letter = make_letter(requires_approval=False)
    vetted = make_letter(slug="vetted", requires_approval=True)
    jane = Individual.objects.get(
        pk=signature_row(vetted, make_individual("Jane Doe", title="Professor")).individual_id
    )
    jane.email = "jane@example.org"
    jane.save()
    own = signature_row(letter, jane, contact_email="jane@example.org")

    response = post(url(own), {"action": "correct", "name": "Jane Doe", "title": "Anything at all"})

    # Her record is one: the new title printed at once on the vetted letter, which no one had reviewed.
    assert response["Location"].endswith("?done=correction-sent")
    assert "Anything at all" not in client.get("/letters/vetted/signatories.json").content.decode()
    assert own.corrections.get().status == Correction.Status.CONFIRMED


def jane_merged_into_an_imported_row(letter, staff) -> tuple[Signature, Signature]:
    """Jane signed on the web; staff merged her into the row a spreadsheet had brought, which is kept."""
    imported = signature_row(
        letter, make_individual("Jane Doe"), signed_at=dt.datetime(2023, 9, 1, tzinfo=dt.UTC)
    )
    web = signature_row(
        letter,
        make_individual("Jane  Doe", email="jane@example.org"),
        signed_at=dt.datetime(2023, 9, 10, tzinfo=dt.UTC),
        # She confirmed it: a link acts on the entry kept in its place only for what its owner proved.
        confirmed_at=dt.datetime(2023, 9, 10, tzinfo=dt.UTC),
        contact_email="jane@example.org",
    )
    individual_merge(keep=imported.individual, duplicates=[web.individual], user=staff)
    web.refresh_from_db()
    assert web.merged_into_id == imported.pk
    return imported, web


def test_after_a_merge_the_signers_link_erases_the_entry_that_stands_for_theirs(client, letter, staff):
    # The links of every e-mail name the signature the merge retired.
    imported, web = jane_merged_into_an_imported_row(letter, staff)
    assert "Jane Doe" in client.get(url(web)).content.decode()

    response = client.post(url(web), {"action": "erase", "confirm": "yes"})

    assert response.status_code == 302
    for day in ["2023-09-05", "2023-09-21"]:
        body = client.get(f"/letters/civic-space/signatories.json?as_of={day}").content.decode()
        assert "Jane" not in body, day
    for signature in (imported, web):
        signature.refresh_from_db()
        assert signature.erased_at is not None
        assert signature.contact_email == ""
    assert not Individual.objects.filter(email="jane@example.org").exists()
    assert not Individual.objects.filter(name__contains="Jane").exists()


def test_after_a_merge_the_signers_link_withdraws_the_entry_that_stands_for_theirs(
    client, post, letter, staff
):
    imported, web = jane_merged_into_an_imported_row(letter, staff)

    assert post(url(web), {"action": "withdraw", "understood": "on"}).status_code == 302

    imported.refresh_from_db()
    assert imported.withdrawn_at is not None
    assert "Jane" not in client.get("/letters/civic-space/signatories.json").content.decode()


def amnesty_claimed_twice_then_merged(letter, staff) -> tuple[Signature, Signature]:
    """The director's claim is listed, an impostor's from free mail waits; staff merge a duplicate."""
    amnesty = make_organization("Amnesty International", acronym="AI", website="https://amnesty.org")
    duplicate = make_organization("Amnesty International Ltd")
    early = dt.datetime(2023, 9, 1, 12, tzinfo=dt.UTC)
    director = signature_row(
        letter, amnesty, signed_at=early, contact_email="director@amnesty.org", signer_name="Dana Director"
    )
    impostor = signature_row(
        letter,
        amnesty,
        status=Signature.Status.CONFIRMED,
        signed_at=early,
        confirmed_at=early,
        contact_email="impostor@gmail.com",
        signer_name="Ivan Impostor",
    )
    organization_merge(keep=amnesty, duplicates=[duplicate], user=staff)
    impostor.refresh_from_db()
    assert impostor.merged_into_id == director.pk
    return director, impostor


def test_after_an_organization_merge_another_claimants_link_does_not_reach_the_listed_claim(
    client, letter, staff
):
    director, impostor = amnesty_claimed_twice_then_merged(letter, staff)

    page = client.get(url(impostor)).content.decode()
    assert "Dana Director" not in page and "Ivan Impostor" in page
    client.post(url(impostor), {"action": "withdraw", "understood": "on"})
    client.post(url(impostor), {"action": "erase", "confirm": "yes"})

    director.refresh_from_db()
    assert (director.erased_at, director.withdrawn_at, director.signer_name) == (None, None, "Dana Director")
    assert "Amnesty International" in client.get("/letters/civic-space/signatories.json").content.decode()


def test_an_organizations_representative_erasing_leaves_another_claimants_signature_alone(
    client, letter, staff
):
    director, impostor = amnesty_claimed_twice_then_merged(letter, staff)

    client.post(url(director), {"action": "erase", "confirm": "yes"})

    director.refresh_from_db()
    impostor.refresh_from_db()
    assert director.erased_at is not None
    # Someone else's claim: not the director's to erase (staff keep it as evidence).
    assert (impostor.erased_at, impostor.contact_email) == (None, "impostor@gmail.com")


def test_after_an_organization_merge_the_representatives_own_retired_claim_leads_to_the_listed_one(
    client, post, letter, staff
):
    amnesty = make_organization("Amnesty International", website="https://amnesty.org")
    duplicate = make_organization("Amnesty International Ltd")
    listed = signature_row(
        letter, amnesty, signed_at=dt.datetime(2023, 9, 1, tzinfo=dt.UTC), contact_email="d@amnesty.org"
    )
    again = signature_row(
        letter,
        duplicate,
        status=Signature.Status.CONFIRMED,
        confirmed_at=dt.datetime(2023, 9, 9, tzinfo=dt.UTC),
        contact_email="D@amnesty.org",
    )
    organization_merge(keep=amnesty, duplicates=[duplicate], user=staff)

    assert post(url(again), {"action": "withdraw", "understood": "on"}).status_code == 302

    listed.refresh_from_db()
    assert listed.withdrawn_at is not None


def test_a_receipt_still_queued_when_the_signer_erases_is_sent_to_nobody(
    client, letter, django_capture_on_commit_callbacks
):
    amnesty = make_organization(
        "Amnesty International", contact_name="Dana Director", contact_email="director@amnesty.org"
    )
    signature_row(letter, amnesty, contact_email="director@amnesty.org", signer_name="Dana Director")
    claim = signature_row(
        letter,
        amnesty,
        status=Signature.Status.CONFIRMED,
        confirmed_at=timezone.now(),
        source=Signature.Source.FORM,
        contact_email="ana@example.org",
        signer_name="Ana Second",
    )
    # The worker is slow: the withdrawal's receipt is still queued when she erases.
    with django_capture_on_commit_callbacks() as queued:
        client.post(url(claim), {"action": "withdraw", "understood": "on"})
    client.post(url(claim), {"action": "erase", "confirm": "yes"})
    for task in queued:
        task()

    # It went to the director, the organization's other contact, with a link to Ana's page.
    assert mail.outbox == []


def test_erasing_takes_the_name_off_the_days_of_an_earlier_period_too(client, letter):
    # Signed, withdrew, signed again: "every list, including earlier days" covers both periods.
    jane = make_individual("Jane Doe", email="jane@example.org")
    first = signature_row(
        letter,
        jane,
        signed_at=dt.datetime(2023, 9, 1, tzinfo=dt.UTC),
        withdrawn_at=dt.datetime(2023, 9, 5, tzinfo=dt.UTC),
    )
    again = signature_row(letter, jane, signed_at=dt.datetime(2023, 9, 10, tzinfo=dt.UTC))
    assert "Jane Doe" in client.get("/letters/civic-space/signatories.json?as_of=2023-09-02").content.decode()

    client.post(url(again), {"action": "erase", "confirm": "yes"})

    for day in ["2023-09-02", "2023-09-21"]:
        assert "Jane" not in client.get(f"/letters/civic-space/signatories.json?as_of={day}").content.decode()
    first.refresh_from_db()
    assert first.erased_at is not None


def test_nothing_brings_an_erased_signature_back(client, signature, staff_client):
    client.post(url(signature), {"action": "erase", "confirm": "yes"})

    assert client.post(url(signature), {"action": "withdraw", "understood": "on"}).status_code == 400
    staff_client.post(
        "/admin/letters/signature/?queue=all",
        {"action": "approve", "_selected_action": [signature.pk]},
    )
    signature.refresh_from_db()
    assert signature.erased_at is not None
    assert "Jane Doe" not in client.get("/letters/civic-space/?as_of=2023-09-21").content.decode()


def test_the_admin_history_keeps_the_erasure_but_not_the_name_or_address(client, staff_client, signature):
    staff_client.post(
        "/admin/letters/signature/?queue=all",
        {
            "action": "mark_withdrawn",
            "_selected_action": [signature.pk],
            "apply": "1",
            "reason": "Jane Doe asked",
        },
    )
    client.post(url(signature), {"action": "erase", "confirm": "yes"})

    history = list(LogEntry.objects.values_list("object_repr", "change_message"))
    assert history
    assert not [
        entry for entry in history if "Jane Doe" in "".join(entry) or "jane@example.org" in "".join(entry)
    ]
    staff_page = staff_client.get(f"/admin/letters/signature/{signature.pk}/history/").content.decode()
    assert "Jane Doe" not in staff_page


def test_staff_erase_on_a_written_request(staff_client, signature):
    staff_client.post(
        "/admin/letters/signature/?queue=all",
        {"action": "erase", "_selected_action": [signature.pk], "apply": "1", "confirm": "on"},
    )
    signature.refresh_from_db()
    assert signature.erased_at is not None
    assert LogEntry.objects.filter(change_message__contains="Erased").exists()


def test_erasing_an_organizations_signature_deletes_its_signers_data_not_its_name(client, letter):
    organization = make_organization(
        "Open Society", contact_name="Ana Pérez", contact_email="ana@os.example.org"
    )
    signature = signature_row(
        letter, organization, signer_name="Ana Pérez", contact_email="ana@os.example.org"
    )

    client.post(url(signature), {"action": "erase", "confirm": "yes"})

    organization.refresh_from_db()
    assert organization.name == "Open Society"
    assert (organization.contact_name, organization.contact_email) == ("", "")
    signature.refresh_from_db()
    assert (signature.signer_name, signature.contact_email) == ("", "")
    assert "Open Society" not in client.get("/letters/civic-space/?as_of=2023-09-21").content.decode()


def test_erasing_an_organizations_claim_deletes_its_signers_contact_though_others_claimed_it(
    client, letter, staff
):
    organization = make_organization(
        "Rights Watchers", contact_name="Ana Pérez", contact_email="Ana@RW.example"
    )
    ana = signature_row(letter, organization, signer_name="Ana Pérez", contact_email="ana@rw.example")
    stranger = signature_row(
        letter,
        organization,
        status=Signature.Status.REJECTED,
        signer_name="Someone Else",
        contact_email="someone@gmail.com",
    )
    LogEntry.objects.log_actions(staff.pk, [organization], 2, "Checked Rights Watchers on its website.")

    client.post(url(ana), {"action": "erase", "confirm": "yes"})

    organization.refresh_from_db()
    assert (organization.name, organization.contact_name, organization.contact_email) == (
        "Rights Watchers",
        "",
        "",
    )
    stranger.refresh_from_db()
    assert (stranger.erased_at, stranger.signer_name) == (None, "Someone Else")
    # The organization's name is its own, public: the history keeps it.
    assert LogEntry.objects.filter(change_message="Checked Rights Watchers on its website.").exists()


def test_erasing_takes_the_signer_out_of_other_signatures_notes(client, letter, post):
    first = {"kind": "individual", "name": "Alícia Marchetti", "title": "Journalist", "country": "BY"}
    post("/letters/civic-space/sign/", {**first, "email": "alicia@private.example", "public_consent": "on"})
    alicia = Signature.objects.get(contact_email="alicia@private.example")
    post(
        "/letters/civic-space/sign/",
        {
            "kind": "individual",
            "name": "ALICIA MARCHETTI",
            "email": "other@example.org",
            "public_consent": "on",
        },
    )
    other = Signature.objects.get(contact_email="other@example.org")
    assert f"individual #{alicia.individual_id} “Alícia Marchetti” (Belarus)" in other.notes

    client.post(url(alicia), {"action": "erase", "confirm": "yes"})

    other.refresh_from_db()
    assert "Alícia" not in other.notes and "Belarus" not in other.notes
    assert f"Possible duplicate of individual #{alicia.individual_id} ([erased])" in other.notes


def test_erasing_after_a_merge_empties_the_history_of_the_record_merged_away(client, letter, staff):
    imported = signature_row(
        letter, make_individual("Alicia Marchetti"), signed_at=dt.datetime(2023, 9, 1, tzinfo=dt.UTC)
    )
    web = signature_row(
        letter,
        make_individual("Alícia Marchetti", title="Journalist, Minsk Daily", email="alicia@private.example"),
        signed_at=dt.datetime(2023, 9, 4, tzinfo=dt.UTC),
        confirmed_at=dt.datetime(2023, 9, 4, tzinfo=dt.UTC),
        contact_email="alicia@private.example",
    )
    individual_merge(keep=imported.individual, duplicates=[web.individual], user=staff)
    assert LogEntry.objects.filter(change_message__contains="Minsk Daily").exists()

    client.post(url(web), {"action": "erase", "confirm": "yes"})

    history = repr(list(LogEntry.objects.values_list("object_repr", "change_message")))
    assert "Alícia" not in history and "Alicia" not in history and "Minsk Daily" not in history, history
    assert LogEntry.objects.filter(
        change_message__startswith=f"Merged into #{imported.individual_id} "
    ).exists()


def test_a_moderator_sees_and_decides_corrections(moderator_client, letter):
    signature = signature_row(letter, make_individual("Jane Doe", title="Professor"))
    correction = Correction.objects.create(
        signature=signature, name="Jane Doe", title="Dean", status="confirmed"
    )

    page = moderator_client.get("/admin/letters/correction/")
    assert page.status_code == 200 and "Dean" in page.content.decode()
    moderator_client.post(
        "/admin/letters/correction/", {"action": "approve", "_selected_action": [correction.pk]}
    )

    signature.individual.refresh_from_db()
    assert signature.individual.title == "Dean"


def test_erasing_forgets_every_stored_page_and_pdf_of_the_letter(
    client, signature, letter, settings, django_capture_on_commit_callbacks
):
    from pathlib import Path

    client.get("/letters/civic-space/signatories.csv?as_of=2023-09-21")
    stored = Path(settings.PAGE_CACHE_DIR) / str(letter.pk)
    assert stored.exists()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(signature), {"action": "erase", "confirm": "yes"})

    assert not stored.exists()


def test_the_signers_page_dates_a_withdrawal_by_the_letters_day_as_the_lists_do(client):
    # 22:00 in New York is 02:00 the next day in UTC: the page said 22 September, the lists 21.
    letter = make_letter(slug="new-york", timezone="America/New_York")
    signature = signature_row(
        letter,
        make_individual("Jane Doe"),
        signed_at=dt.datetime(2023, 9, 1, tzinfo=dt.UTC),
        withdrawn_at=dt.datetime(2023, 9, 22, 2, tzinfo=dt.UTC),
    )
    html = client.get(url(signature)).content.decode()
    assert "Withdrawn on 21 September 2023" in html
    confirm_page = client.get(f"/confirm/{make_confirm_token(signature.pk)}/").content.decode()
    assert "withdrawn on 21 September 2023" in confirm_page
    assert (
        "Jane Doe" not in client.get("/letters/new-york/signatories.json?as_of=2023-09-21").content.decode()
    )
    assert "Jane Doe" in client.get("/letters/new-york/signatories.json?as_of=2023-09-20").content.decode()


def test_erasing_deletes_what_staff_wrote_of_a_rejected_signer(client, letter, staff):
    jane = make_individual("Jane Doe", email="jane@example.org")
    signature = signature_row(
        letter, jane, status=Signature.Status.CONFIRMED, contact_email="jane@example.org"
    )
    lifecycle.signatures_reject(
        signatures=Signature.objects.filter(pk=signature.pk), user=staff, reason="Works for the ministry"
    )

    client.post(url(signature), {"action": "erase", "confirm": "yes"})

    signature.refresh_from_db()
    assert signature.rejection_reason == ""
    assert not LogEntry.objects.filter(change_message__contains="ministry").exists()


def test_withdrawal_is_a_step_of_its_own_that_says_a_waiting_correction_is_dropped(client, signature):
    # Issue: "Withdraw my signature" acted on one click, looked like "Save the correction" and
    # silently dropped a correction awaiting review.
    signature.letter.requires_approval = True
    signature.letter.save()
    client.post(url(signature), {"action": "correct", "name": "Jane Doe", "title": "Dean of Law"})

    html = client.get(url(signature)).content.decode()

    withdraw = html[html.index('id="withdraw-heading"') :]
    withdraw = withdraw[: withdraw.index("</section>")]
    assert "The correction awaiting the organizers’ review is dropped if you withdraw." in withdraw
    assert "<details" in withdraw and "Withdraw my signature…" in withdraw
    assert 'class="button-danger"' in withdraw and "Yes, withdraw my signature" in withdraw
    assert 'name="understood"' in withdraw and "required" in withdraw
    assert "cannot be undone" in withdraw


def test_a_withdrawal_without_the_box_ticked_is_refused_by_the_server(client, signature):
    # The "I understand" box was checked by the browser only: a form sent
    # without it (an old browser, a script) withdrew at once.
    response = client.post(url(signature), {"action": "withdraw", "reason": "oops"})

    assert response.status_code == 400
    assert "Tick this box to confirm that you want to withdraw." in response.content.decode()
    signature.refresh_from_db()
    assert signature.withdrawn_at is None

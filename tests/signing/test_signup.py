import contextlib
import re
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction

from letters import lifecycle
from letters.models import Correction, Letter, Signature
from letters.signing.services import signature_submit
from signatories.models import Individual, Organization
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db

URL = "/letters/civic-space/sign/"
ORG_URL = "/letters/civic-space/sign/?as=organization"


def individual_data(**fields):
    return {
        "name": "Tomás Ojea-Quintana",
        "title": "Former UN Special Rapporteur",
        "country": "AR",
        "email": "tomas@example.org",
        "public_consent": "on",
    } | fields


def organization_data(**fields):
    return {
        "organization_name": "Asociación Pro Derechos Humanos",
        "acronym": "APDH",
        "country": "AR",
        "website": "apdh.example.org",
        "name": "Ana Pérez",
        "email": "ana@apdh.example.org",
        "public_consent": "on",
    } | fields


def test_the_letter_page_links_to_the_form_while_open(client, letter):
    html = client.get("/letters/civic-space/").content.decode()
    assert 'href="/letters/civic-space/sign/"' in html
    letter.status = Letter.Status.CLOSED
    letter.save()
    html = client.get("/letters/civic-space/").content.decode()
    assert "/sign/" not in html


def test_the_form_labels_every_field(client, letter):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for field in ["name", "title", "country", "email", "public_consent", "contact_consent"]:
        assert f'<label for="id_{field}"' in html, field
    assert "On behalf of an organization" in html
    assert "<script" not in html


def test_the_organization_form_labels_every_field(client, letter):
    html = client.get(ORG_URL).content.decode()
    for field in ["organization_name", "acronym", "country", "website", "name", "email", "public_consent"]:
        assert f'<label for="id_{field}"' in html, field


def test_it_offers_only_what_the_letter_accepts(client):
    make_letter(slug="orgs-only", accepts_individuals=False)
    html = client.get("/letters/orgs-only/sign/").content.decode()
    assert 'id="id_organization_name"' in html
    assert "As an individual" not in html
    # Asking for the individual form of an organizations-only letter gives the organization form.
    html = client.get("/letters/orgs-only/sign/?as=individual").content.decode()
    assert 'id="id_organization_name"' in html


def test_an_individual_signs_and_gets_a_confirmation_email(post, letter):
    response = post(URL, individual_data(contact_consent="on"), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    assert response["Location"] == "/letters/civic-space/sign/thanks/?as=individual"

    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    assert signature.source == Signature.Source.FORM
    assert signature.signed_at is None and signature.confirmed_at is None
    assert signature.public_consent and signature.contact_consent
    assert signature.individual.name == "Tomás Ojea-Quintana"
    assert signature.individual.title == "Former UN Special Rapporteur"
    assert signature.individual.country == "AR"
    assert signature.individual.email == "tomas@example.org"
    assert signature.contact_email == "tomas@example.org"
    assert len(signature.ip_hash) == 64 and "203.0.113.9" not in signature.ip_hash

    [message] = mail.outbox
    assert message.to == ["tomas@example.org"]
    assert message.subject == "Please confirm your signature: Protect civic space"
    assert "Tomás Ojea-Quintana" in message.body
    assert re.search(r"http://127\.0\.0\.1:8000/confirm/[^/\s]+/", message.body)
    assert re.search(r"http://127\.0\.0\.1:8000/manage/[^/\s]+/", message.body)
    assert message.alternatives[0].mimetype == "text/html"


def test_the_thanks_page_asks_to_check_the_inbox(client, letter):
    html = client.get("/letters/civic-space/sign/thanks/?as=individual").content.decode()
    assert "Check your e-mail" in html


def test_a_pending_signature_is_not_listed(post, client, letter):
    post(URL, individual_data())
    assert "Tomás Ojea-Quintana" not in client.get("/letters/civic-space/").content.decode()


def test_an_organization_signs(post, letter):
    response = post(ORG_URL, organization_data())
    assert response.status_code == 302
    assert response["Location"].endswith("?as=organization")
    signature = Signature.objects.get()
    organization = signature.organization
    assert organization.display_name == "Asociación Pro Derechos Humanos (APDH)"
    assert organization.country == "AR"
    assert organization.website == "https://apdh.example.org"
    assert organization.contact_name == "Ana Pérez"
    assert signature.signer_name == "Ana Pérez"
    assert signature.contact_email == "ana@apdh.example.org"
    [message] = mail.outbox
    assert message.to == ["ana@apdh.example.org"]
    assert "review" in message.body


@pytest.mark.parametrize(
    ("url", "data"),
    [
        (URL, individual_data(name="ﷺ" * 12)),  # one character, 18 letters once spelled out
        (URL, individual_data(name="ß" * 101)),  # "ss" once case-folded
        (ORG_URL, organization_data(organization_name="ﷺ" * 17)),
    ],
)
def test_a_name_that_normalizing_lengthens_is_stored(post, letter, url, data):
    # PostgreSQL refused the identity key, longer than its column: a 500 for the signer.
    assert post(url, data).status_code == 302
    signatory = Signature.objects.get().signatory
    assert signatory.name in (data.get("organization_name"), data["name"])
    assert 0 < len(signatory.name_key) <= type(signatory)._meta.get_field("name_key").max_length


def test_errors_show_next_to_the_field_and_keep_what_was_typed(post, letter):
    response = post(URL, individual_data(email="not-an-address", public_consent=""))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="Tomás Ojea-Quintana"' in html
    assert 'value="not-an-address"' in html
    assert 'id="id_email_error"' in html and "Enter a valid email address." in html
    assert "agree to its publication" in html
    assert 'aria-describedby="id_email_helptext id_email_error"' in html
    assert not Signature.objects.exists() and not Individual.objects.exists()
    assert not mail.outbox


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "x" * 201, "at most 200 characters"),
        ("title", "x" * 401, "at most 400 characters"),
        ("name", "Jane\nDoe", "on one line"),
        ("name", "Jane\x07Doe", "control characters"),
        ("title", "Professor\u202eevil", "control characters"),
        ("name", "Ana\uffff", "control characters"),
        ("name", "Ana\ufdd0 Pérez", "control characters"),
        ("name", "Grace Imp\u200borted", "control characters"),
        ("title", "Professor\ufeff", "control characters"),
        ("name", "   ", "This field is required."),
        ("name", "\u200b\u200b", "at least one letter"),
        ("name", "!!! ---", "at least one letter"),
    ],
)
def test_bad_input_is_refused_next_to_the_field(post, letter, field, value, message):
    response = post(URL, individual_data(**{field: value}))
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    assert message in html
    assert not Signature.objects.exists()


def test_the_longest_allowed_values_are_kept_whole(post, letter):
    post(URL, individual_data(name="N" * 200, title="T" * 400))
    individual = Individual.objects.get()
    assert individual.name == "N" * 200 and individual.title == "T" * 400


def test_text_is_trimmed_and_normalized_to_nfc(post, letter):
    decomposed = "Jose\u0301 Marti\u0301"
    post(URL, individual_data(name=f"  {decomposed}  ", title=" Poet "))
    individual = Individual.objects.get()
    assert individual.name == "José Martí"
    assert individual.title == "Poet"


def test_a_name_with_a_script_tag_is_stored_as_text_and_never_runs(post, client, letter):
    name = "<script>alert('x')</script> Evil"
    post(URL, individual_data(name=name))
    assert Individual.objects.get().name == name
    [message] = mail.outbox
    html_part = message.alternatives[0].content
    assert "<script>" not in html_part
    assert "&lt;script&gt;" in html_part
    link = re.search(r"/confirm/[^/\s]+/", message.body).group(0)
    html = client.get(link).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html


def test_the_country_must_be_a_country(post, letter):
    response = post(URL, individual_data(country="XX"))
    assert response.status_code == 400
    assert 'id="id_country_error"' in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": Letter.Status.CLOSED}, "no longer accepts signatures"),
        ({"opens_at": "2999-01-01T00:00Z"}, "opens for signatures on"),
        ({"closes_at": "2000-01-01T00:00Z"}, "closed to new signatures"),
    ],
)
def test_a_letter_not_open_shows_why_and_accepts_nothing(post, client, fields, message):
    make_letter(slug="civic-space", **fields)
    response = client.get(URL)
    assert message in response.content.decode()
    assert 'name="email"' not in response.content.decode()
    response = post(URL, individual_data())
    assert response.status_code == 403
    assert not Signature.objects.exists()
    assert not mail.outbox


def test_a_draft_letter_has_no_form_for_the_public(client):
    make_letter(slug="civic-space", status=Letter.Status.DRAFT)
    assert client.get(URL).status_code == 404
    assert client.post(URL, individual_data()).status_code == 404
    assert not Signature.objects.exists()


def test_signing_twice_makes_one_signature_and_the_page_does_not_tell(post, letter):
    first = post(URL, individual_data())
    second = post(URL, individual_data(email="TOMAS@Example.org"))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Signature.objects.count() == 1
    assert Individual.objects.count() == 1
    # Still unconfirmed: the second message is a new confirmation link.
    assert [m.subject for m in mail.outbox] == ["Please confirm your signature: Protect civic space"] * 2


def test_gmail_dots_and_tags_are_the_same_mailbox(post, letter):
    post(URL, individual_data(email="jane.doe@gmail.com"))
    post(URL, individual_data(email="janedoe+letters@gmail.com"))
    assert Signature.objects.count() == 1


def test_someone_who_already_signed_gets_an_email_saying_so(post, letter):
    individual = make_individual(
        "Tomás Ojea-Quintana", title="Former UN Special Rapporteur", country="AR", email="tomas@example.org"
    )
    signature_row(letter, individual)
    response = post(URL, individual_data())
    assert response.status_code == 302
    assert response["Location"] == "/letters/civic-space/sign/thanks/?as=individual"
    assert Signature.objects.count() == 1
    [message] = mail.outbox
    assert message.to == ["tomas@example.org"]
    assert message.subject == "You have already signed: Protect civic space"
    assert "It is on the list." in message.body
    assert "/manage/" in message.body


def test_a_known_signer_of_another_letter_prints_what_they_submitted_once_confirmed(client, post):
    letter = make_letter(slug="civic-space", requires_approval=False)
    individual = make_individual("Tomás Ojea-Quintana", title="Lawyer", email="tomas@example.org")
    signature_row(make_letter(requires_approval=False), individual)

    post(URL, individual_data(title="Former UN Special Rapporteur"))

    signature = Signature.objects.get(letter=letter)
    assert signature.individual == individual
    assert Individual.objects.count() == 1
    individual.refresh_from_db()
    assert individual.title == "Lawyer"  # nothing changes before the mailbox's owner confirms
    client.post(re.search(r"/confirm/[^/\s]+/", mail.outbox[-1].body).group(0))
    individual.refresh_from_db()
    assert individual.title == "Former UN Special Rapporteur"


def test_a_known_signers_confirmation_email_shows_the_entry_she_submitted(post):
    make_letter(slug="civic-space", requires_approval=False)
    individual = make_individual("Tomás Ojea-Quintana", title="Lawyer", email="tomas@example.org")
    signature_row(make_letter(requires_approval=False), individual)

    post(URL, individual_data(title="Former UN Special Rapporteur"))

    # It showed only "Lawyer", the title on file, though the link publishes what she typed.
    message = mail.outbox[-1]
    assert "Former UN Special Rapporteur" in message.body
    assert "Former UN Special Rapporteur" in message.alternatives[0].content


def test_a_known_signer_of_a_vetted_letter_is_reprinted_there_only_once_staff_approve(client, post, staff):
    make_letter(slug="civic-space", requires_approval=False)
    individual = make_individual("Tomás Ojea-Quintana", title="Lawyer", email="tomas@example.org")
    signature_row(make_letter(slug="vetted", requires_approval=True), individual)

    post(URL, individual_data(title="Former UN Special Rapporteur"))
    client.post(re.search(r"/confirm/[^/\s]+/", mail.outbox[-1].body).group(0))

    # One record, printed on both letters: the vetted one's organizers review the new title first.
    assert "Lawyer" in client.get("/letters/vetted/signatories.json").content.decode()
    lifecycle.corrections_approve(corrections=Correction.objects.all(), user=staff)
    assert "Former UN Special Rapporteur" in client.get("/letters/vetted/signatories.json").content.decode()


def test_a_stranger_cannot_rewrite_a_pending_entry(client, post):
    # Issue #10, 2: "latest submission wins" printed the stranger's title when A confirmed A's own link.
    make_letter(slug="civic-space", requires_approval=False)
    post(URL, individual_data(title="Professor of Law"))
    first_link = re.search(r"/confirm/[^/\s]+/", mail.outbox[0].body).group(0)

    post(URL, individual_data(title="Supporter of the crackdown"))  # someone else, with A's address
    client.post(first_link)

    page = client.get("/letters/civic-space/").content.decode()
    assert "Professor of Law" in page
    assert "Supporter of the crackdown" not in page
    # The second submission is a correction with a link of its own, sent to A's address; staff can see it.
    [correction] = Correction.objects.all()
    assert correction.status == Correction.Status.PENDING and correction.title == "Supporter of the crackdown"
    second = mail.outbox[-1]
    assert second.to == ["tomas@example.org"]
    assert "/confirm-correction/" in second.body and first_link not in second.body


def test_a_corrected_typo_prints_once_its_own_link_is_confirmed(client, post):
    make_letter(slug="civic-space", requires_approval=False)
    post(URL, individual_data(name="Tomas Ojea-Quintan"))
    post(URL, individual_data(name="Tomás Ojea-Quintana"))
    assert Individual.objects.get().name == "Tomas Ojea-Quintan"
    assert "Tomás Ojea-Quintana" in mail.outbox[-1].body

    client.post(re.search(r"/confirm/[^/\s]+/", mail.outbox[0].body).group(0))
    correction_link = re.search(r"/confirm-correction/[^/\s]+/", mail.outbox[-1].body).group(0)
    assert client.get(correction_link).status_code == 200
    assert Individual.objects.get().name == "Tomas Ojea-Quintan"  # opening the link changes nothing
    client.post(correction_link)

    assert Individual.objects.get().name == "Tomás Ojea-Quintana"
    assert "Tomás Ojea-Quintana" in client.get("/letters/civic-space/").content.decode()


def test_an_existing_organization_is_reused_by_name(post, letter):
    existing = make_organization("Asociación Pro-Derechos Humanos", acronym="APDH", country="AR")
    post(ORG_URL, organization_data(organization_name="asociacion pro derechos humanos"))
    assert Organization.objects.count() == 1
    assert Signature.objects.get().organization == existing


def test_an_existing_organization_is_reused_by_acronym_and_country(post, letter):
    existing = make_organization("Amnesty International Argentina", acronym="AIAR", country="AR")
    post(ORG_URL, organization_data(organization_name="Amnistía Argentina", acronym="aiar"))
    assert Organization.objects.count() == 1
    signature = Signature.objects.get()
    assert signature.organization == existing
    assert "Amnistía Argentina" in signature.notes


def test_a_near_match_is_a_new_organization_flagged_for_staff(post, letter):
    existing = make_organization("Human Rights Watch", acronym="HRW", country="US")
    post(ORG_URL, organization_data(organization_name="Human Rights Observers", acronym="HRW", country="GB"))
    assert Organization.objects.count() == 2
    signature = Signature.objects.get()
    assert signature.organization != existing
    assert f"Possible duplicate of organization #{existing.pk}" in signature.notes
    assert "same acronym" in signature.notes


def test_a_rejected_impostor_does_not_lock_the_real_organization_out(post, staff_client, letter):
    # Issue #10, 3: the real director was told the organization was already on file;
    # staff never saw the attempt.
    data = {
        "organization_name": "Civil Liberties Union of Veltrana",
        "acronym": "CLU",
        "website": "https://www.clu-veltrana.org",
    }
    post(ORG_URL, organization_data(email="clu.veltrana@gmail.com", **data))
    impostor = Signature.objects.get()
    client_confirm = re.search(r"/confirm/[^/\s]+/", mail.outbox[-1].body).group(0)
    staff_client.post(client_confirm)
    staff_client.post(
        "/admin/letters/signature/?queue=all",
        {
            "action": "reject",
            "_selected_action": [impostor.pk],
            "apply": "1",
            "reason": "Not the organization",
        },
    )

    post(ORG_URL, organization_data(email="director@clu-veltrana.org", **data))

    real = Signature.objects.exclude(pk=impostor.pk).get()
    assert real.organization == impostor.organization
    assert real.status == Signature.Status.PENDING
    assert mail.outbox[-1].to == ["director@clu-veltrana.org"]
    staff_client.post(re.search(r"/confirm/[^/\s]+/", mail.outbox[-1].body).group(0))
    queue = staff_client.get("/admin/letters/signature/").content.decode()
    assert "director@clu-veltrana.org" in queue
    page = staff_client.get(f"/admin/letters/signature/{real.pk}/change/").content.decode()
    assert "at the organization’s website domain" in page
    impostor_page = staff_client.get(f"/admin/letters/signature/{impostor.pk}/change/").content.decode()
    assert "a free-mail address" in impostor_page

    staff_client.post(
        "/admin/letters/signature/?queue=all", {"action": "approve", "_selected_action": [real.pk]}
    )
    real.refresh_from_db()
    assert real.status == Signature.Status.APPROVED


def test_an_organization_is_listed_once_whatever_the_claims(post, staff_client, letter):
    organization = make_organization("Asociación Pro Derechos Humanos", acronym="APDH", country="AR")
    listed = signature_row(letter, organization, contact_email="ana@apdh.example.org")
    post(ORG_URL, organization_data(email="rival@example.com"))
    claim = Signature.objects.exclude(pk=listed.pk).get()
    staff_client.post(re.search(r"/confirm/[^/\s]+/", mail.outbox[-1].body).group(0))

    response = staff_client.post(
        "/admin/letters/signature/?queue=all",
        {"action": "approve", "_selected_action": [claim.pk]},
        follow=True,
    )

    claim.refresh_from_db()
    assert claim.status == Signature.Status.CONFIRMED
    assert "already on the list" in response.content.decode()
    assert Signature.objects.on_roster(letter).count() == 1


def test_every_message_has_a_plain_text_part_and_a_single_line_subject(post):
    make_letter(slug="civic-space", title="Protect\ncivic\r\nspace")
    post(URL, individual_data())
    [message] = mail.outbox
    assert message.subject == "Please confirm your signature: Protect civic space"
    raw = message.message().as_string()
    assert "Content-Type: text/plain" in raw
    assert "Content-Type: text/html" in raw


def test_with_the_database_queue_the_email_is_queued_with_the_signature_and_sent_by_the_worker(
    client, settings
):
    from django_tasks_db.models import DBTaskResult

    from letters.signing.tasks import send_signature_email

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    make_letter(slug="civic-space")
    response = client.post(URL, individual_data())
    assert response.status_code == 302
    [task] = DBTaskResult.objects.all()
    assert task.task_path == "letters.signing.tasks.send_signature_email"
    assert not mail.outbox  # the request never talks to the mail server

    # What a worker does with the row (the db_worker command itself closes the
    # test's database connection).
    send_signature_email.call(**task.args_kwargs["kwargs"])
    [message] = mail.outbox
    assert message.to == ["tomas@example.org"]


@pytest.mark.parametrize(
    "backend", ["django_tasks_db.DatabaseBackend", "django.tasks.backends.immediate.ImmediateBackend"]
)
def test_a_rolled_back_submission_sends_and_queues_nothing(
    settings, letter, backend, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": backend}}
    callbacks = django_capture_on_commit_callbacks(execute=True)
    with callbacks, contextlib.suppress(RuntimeError), transaction.atomic():
        signature_submit(
            letter=letter, kind="individual", name="Jane", email="jane@example.org", public_consent=True
        )
        raise RuntimeError("something after the submission failed")
    assert not Signature.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert not mail.outbox


def test_a_letter_that_closes_while_the_form_is_filled_in_stores_nothing(post, letter):
    # Open when the view looks, closed by the time the service does.
    with mock.patch.object(Letter, "is_accepting_signatures", side_effect=[True, False]):
        response = post(URL, individual_data())
    assert response.status_code == 403
    assert "does not accept signatures" in response.content.decode()
    assert not Signature.objects.exists()


def test_keys_stored_longer_than_their_column_are_cut_by_a_migration(letter):
    import importlib

    from django.apps import apps
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL never held such keys: it refused them")
    migration = importlib.import_module("signatories.migrations.0005_name_keys_within_their_columns")
    person = make_individual("ﷺ" * 12)
    Individual.objects.filter(pk=person.pk).update(name_key="x" * 250)  # as SQLite kept it
    migration.cut(apps, None)
    person.refresh_from_db()
    assert person.name_key == "x" * 200


def test_a_claimant_who_sends_the_form_again_for_a_listed_organization_gets_no_error_and_changes_nothing(
    post, letter
):
    # Hypothesis found it: one person signed twice for an organization another
    # claimant had already put on the list; the second form raised a
    # ValidationError from the correction rule (the view shows it; the service
    # raised it to every other caller). What a claimant nobody vouched for typed
    # acts on their own unlisted entry only: the changed entry is not proposed.
    listed = signature_row(letter, make_organization("Asociación Pro Derechos Humanos", acronym="APDH"))
    assert post(ORG_URL, organization_data(email="ana@other.example.org")).status_code == 302
    claim = Signature.objects.exclude(pk=listed.pk).get()
    assert claim.organization_id == listed.organization_id

    again = post(ORG_URL, organization_data(email="ana@other.example.org", acronym="SUPPORTS THE LAW"))

    assert again.status_code == 302
    listed.organization.refresh_from_db()
    assert listed.organization.acronym == "APDH"
    assert not [c for c in Correction.objects.all() if "SUPPORTS THE LAW" in str(vars(c))]

"""
The signup path on a viral day (issue #14): what a signup costs the database,
whatever the size of the tables and however common the signer's name.
"""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from letters.models import Signature
from letters.signing import services
from signatories import identity
from signatories.models import Individual
from tests.factories import make_individual, make_letter, signature_row

pytestmark = pytest.mark.django_db

URL = "/letters/civic-space/sign/"


def data(email: str, name: str = "Maria Garcia") -> dict:
    return {"name": name, "country": "ES", "email": email, "public_consent": "on"}


@pytest.fixture
def letter(db):
    return make_letter(slug="civic-space")


def statements(post, url: str, fields: dict) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = post(url, fields)
    assert response.status_code == 302
    return [query["sql"] for query in queries.captured_queries]


def test_a_common_name_costs_a_signup_no_more_queries(post, letter):
    before = statements(post, URL, data("first@example.org"))
    for number in range(30):
        make_individual("Maria Garcia", email=f"maria{number}@example.org")
    after = statements(post, URL, data("second@example.org"))
    assert len(after) == len(before)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's one writer at a time")
@pytest.mark.django_db(transaction=True)
@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_the_write_transaction_holds_only_the_writes(client):
    # On SQLite every writer waits while one transaction lasts: the look-ups
    # run before it starts, so it holds the rows a signup adds and nothing else.
    make_letter(slug="civic-space")
    make_individual("Maria Garcia", email="maria@example.org")
    sql = statements(client.post, URL, data("ana@example.org"))
    begin = next(i for i, s in enumerate(sql) if s.startswith("BEGIN"))
    end = next(i for i, s in enumerate(sql) if s.startswith("COMMIT"))
    writes = [s.split(" (")[0] for s in sql[begin + 1 : end] if not s.startswith(("SAVEPOINT", "RELEASE"))]
    assert writes == [
        'INSERT INTO "signatories_individual"',
        'INSERT INTO "letters_signature"',
        'INSERT INTO "django_tasks_database_dbtaskresult"',
    ]


def test_staff_read_a_few_namesakes_and_that_there_are_more(post, letter):
    for number in range(6):
        make_individual("Maria Garcia", email=f"maria{number}@example.org")
    post(URL, data("new@example.org"))
    notes = Signature.objects.get(individual__email="new@example.org").notes.splitlines()
    assert len(notes) == 4
    assert all(note.startswith("Possible duplicate of individual #") for note in notes[:3])
    assert notes[3] == "… and more with the same or a similar name."


def test_the_mailbox_is_found_however_many_namesakes_come_first(letter):
    for number in range(25):
        make_individual("Maria Garcia", email=f"maria{number}@example.org")
    owner = make_individual("Maria Garcia", email="owner@example.org")
    candidate = Individual(name="Maria Garcia", email="Owner@Example.org")
    candidate.refresh_derived_fields()
    match = identity.individual_matches(candidate, fuzzy=False, near=3)[0]
    assert (match.record, match.same) == (owner, True)


def test_signing_again_finds_the_signer_whatever_the_letter_size(post, letter):
    person = make_individual("Jane Doe", email="jane@example.org")
    signature_row(letter, person, status="pending")
    post(URL, data("jane@example.org", name="Jane Doe"))
    assert Signature.objects.filter(letter=letter).count() == 1


def test_a_returning_signer_found_by_the_mailbox_costs_no_look_up_of_namesakes(post, letter):
    # Their mailbox says who they are: the namesakes are notes for staff about a new signer.
    person = make_individual("Maria Garcia", email="maria@example.org")
    make_individual("Maria Garcia", email="another.maria@example.org")
    signature_row(letter, person, status="pending")
    sql = statements(post, URL, data("maria@example.org"))
    reads = [s for s in sql if s.startswith("SELECT") and 'FROM "signatories_individual" WHERE' in s]
    assert len(reads) == 1 and "canonical_email" in reads[0], reads


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query planner")
@pytest.mark.parametrize(
    "queryset",
    [
        # The mailbox's owner: the partial unique index cannot serve a bound value.
        lambda letter: Individual.objects.filter(canonical_email="jane@example.org"),
        # The signer's signature on the letter, not every signature of the letter.
        lambda letter: Signature.objects.filter(letter=letter, individual_id=1),
        lambda letter: Signature.objects.filter(letter=letter, organization_id=1),
    ],
)
def test_the_signup_lookups_use_an_index_not_a_table_scan(letter, queryset):
    plan = queryset(letter).explain()
    assert "SCAN" not in plan, plan
    assert "individual_idx" in plan or "organization_idx" in plan or "individual_email_idx" in plan, plan


@pytest.mark.django_db(transaction=True)
def test_a_signer_merged_away_between_look_up_and_commit_still_signs(monkeypatch, client):
    # The look-up runs before the write transaction; staff may merge the record
    # it found in between. The foreign key fails at commit: the signup looks again.
    make_letter(slug="civic-space")
    jane = make_individual("Jane Doe", email="jane@example.org")
    original = services._individual_for
    calls = []

    def merged_meanwhile(submitted):
        found = original(submitted)
        if not calls:
            Individual.objects.filter(pk=jane.pk).delete()
        calls.append(found)
        return found

    monkeypatch.setattr(services, "_individual_for", merged_meanwhile)
    response = client.post(URL, data("jane@example.org", name="Jane Doe"))
    assert response.status_code == 302
    assert [known.pk if known else None for known, _notes in calls] == [jane.pk, None]
    signature = Signature.objects.get()
    assert signature.individual.email == "jane@example.org"
    assert signature.individual_id != jane.pk


def test_an_address_that_grows_when_normalized_still_signs(post, letter):
    # casefold() writes "ß" as "ss": 168 characters become 328, over an address's 254.
    address = "a@" + ".".join(["ß" * 40] * 4) + ".de"
    response = post(URL, data(address))
    assert response.status_code == 302
    signature = Signature.objects.get(letter=letter)
    assert signature.contact_mailbox == signature.individual.canonical_email == address.casefold()

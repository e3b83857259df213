import datetime as dt

import pytest

from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(letter):
    signature_row(
        letter, make_individual("Lee Yanghee", sort_name="Lee Yanghee", title="Professor", country="KR")
    )
    signature_row(letter, make_individual("이양희", email="private@example.org"))
    signature_row(letter, make_organization("Asociación Pro Derechos Humanos", acronym="APDH", country="ES"))
    signature_row(
        letter,
        make_individual("Withdrawn Person"),
        withdrawn_at=dt.datetime(2023, 9, 5, tzinfo=dt.UTC),
    )
    return letter


def test_it_gives_the_letter_the_day_the_counts_and_the_entries(client, signed):
    response = client.get("/letters/civic-space/signatories.json?as_of=2023-09-21")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["letter"] == {"slug": "civic-space", "title": "Protect civic space"}
    assert data["as_of"] == "2023-09-21"
    assert data["counts"] == {
        "individuals": 2,
        "organizations": 1,
        "unnamed_individuals": 0,
        "unnamed_organizations": 0,
        "total": 3,
    }
    assert [entry["name"] for entry in data["signatories"]] == [
        "Lee Yanghee",
        "이양희",
        "Asociación Pro Derechos Humanos",
    ]
    assert data["signatories"][0] == {
        "type": "individual",
        "name": "Lee Yanghee",
        "title": "Professor",
        "acronym": "",
        "country": "South Korea",
        "signed_on": "2023-09-01",
    }
    assert "example.org" not in response.content.decode()


def test_a_withdrawn_signatory_is_counted_on_days_before_the_withdrawal(client, signed):
    data = client.get("/letters/civic-space/signatories.json?as_of=2023-09-03").json()
    assert data["counts"] == {
        "individuals": 3,
        "organizations": 1,
        "unnamed_individuals": 0,
        "unnamed_organizations": 0,
        "total": 4,
    }


def test_a_repeated_request_is_a_304(client, signed):
    etag = client.get("/letters/civic-space/signatories.json")["ETag"]
    response = client.get("/letters/civic-space/signatories.json", headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response.content == b""


def test_editing_a_listed_title_changes_the_etag(client, signed):
    etag = client.get("/letters/civic-space/signatories.json")["ETag"]
    person = signed.signatures.get(individual__name="Lee Yanghee").individual
    person.title = "Professor Emerita"
    person.save()
    response = client.get("/letters/civic-space/signatories.json", headers={"if-none-match": etag})
    assert response.status_code == 200
    assert response.json()["signatories"][0]["title"] == "Professor Emerita"


def test_a_future_day_is_a_400(client, signed):
    response = client.get("/letters/civic-space/signatories.json?as_of=2999-01-01")
    assert response.status_code == 400
    assert "has not happened yet" in response.content.decode()

import csv
import datetime as dt
import io

import pytest
from django.http import StreamingHttpResponse

from letters.outputs import press
from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(letter):
    signature_row(
        letter,
        make_individual(
            "Tomás Ojea-Quintana",
            title="Former UN Special Rapporteur",
            country="AR",
            email="tomas@example.org",
        ),
        signed_at=dt.datetime(2023, 9, 20, 2, tzinfo=dt.UTC),  # 19 September in New York
        contact_email="private-contact@example.org",
    )
    signature_row(
        letter, make_individual('=HYPERLINK("http://evil")', title="-2+3", email="evil@example.org")
    )
    signature_row(
        letter,
        make_organization(
            "Korea Citizens' Solidarity", acronym="KCS", country="KR", contact_email="kcs@example.org"
        ),
    )
    return letter


def read_csv(response) -> tuple[bytes, list[list[str]]]:
    body = b"".join(response.streaming_content)
    return body, list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_it_streams_the_roster_with_bom_header_and_printed_order(client, signed):
    response = client.get("/letters/civic-space/signatories.csv?as_of=2023-09-21")
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="civic-space-signatories-as-of-2023-09-21.csv"'
    )
    body, rows = read_csv(response)
    assert body.startswith(b"\xef\xbb\xbftype,name,title,acronym,country,signed_on\r\n")
    assert rows[0] == ["type", "name", "title", "acronym", "country", "signed_on"]
    assert rows[1:] == [
        # "=HYPERLINK…" sorts by its last word; the formula cells carry an apostrophe
        ["individual", '\'=HYPERLINK("http://evil")', "'-2+3", "", "", "2023-09-01"],
        ["individual", "Tomás Ojea-Quintana", "Former UN Special Rapporteur", "", "Argentina", "2023-09-19"],
        ["organization", "Korea Citizens' Solidarity", "", "KCS", "South Korea", "2023-09-01"],
    ]


def test_no_private_field_is_ever_written(client, signed):
    body, _ = read_csv(client.get("/letters/civic-space/signatories.csv"))
    text = body.decode("utf-8-sig")
    assert "@" not in text
    assert "example.org" not in text


def test_a_long_roster_is_written_in_chunks(letter, monkeypatch):
    for n in range(7):
        signature_row(letter, make_individual(f"Person {n:02}"))
    monkeypatch.setattr(press, "CSV_ROWS_PER_CHUNK", 3)
    from letters.rosters import Roster

    chunks = list(press.csv_chunks(Roster(letter)))
    assert len(chunks) == 3  # the header and rows 1-3, rows 4-6, row 7
    assert b"".join(chunks).decode("utf-8-sig").count("\r\n") == 8


def test_a_repeated_request_is_a_304_until_the_roster_changes(client, signed):
    first = client.get("/letters/civic-space/signatories.csv?as_of=2023-09-21")
    etag = first["ETag"]
    assert etag
    again = client.get(
        "/letters/civic-space/signatories.csv?as_of=2023-09-21", headers={"if-none-match": etag}
    )
    assert again.status_code == 304
    signature_row(signed, make_individual("Late Signer"), signed_at=dt.datetime(2023, 9, 10, tzinfo=dt.UTC))
    changed = client.get(
        "/letters/civic-space/signatories.csv?as_of=2023-09-21", headers={"if-none-match": etag}
    )
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_the_etag_costs_a_few_queries_whatever_the_length(client, letter, django_assert_max_num_queries):
    for n in range(30):
        signature_row(letter, make_individual(f"Person {n}"))
    etag = client.get("/letters/civic-space/signatories.csv")["ETag"]
    with django_assert_max_num_queries(4):
        response = client.get("/letters/civic-space/signatories.csv", headers={"if-none-match": etag})
    assert response.status_code == 304


def test_malformed_as_of_is_a_plain_400(client, signed):
    response = client.get("/letters/civic-space/signatories.csv?as_of=yesterday")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "is not a date" in response.content.decode()


def test_a_head_request_sends_the_headers_without_the_list(client, signed):
    response = client.head("/letters/civic-space/signatories.csv")
    assert response.status_code == 200
    assert response["ETag"]
    assert b"".join(response.streaming_content) == b""

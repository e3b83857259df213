"""
Hostile strings through every input that stores something: the signup form,
raw form bodies, staff imports (CSV and XLSX). Every response is 2xx or 4xx;
whatever is stored is inert text on every page and export; a refused input
changes nothing.
"""

import csv
import io
import json

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from letters.models import Signature
from letters.outputs.press import FORMULA_TRIGGERS
from signatories.models import Individual, Organization
from tests.factories import make_individual, signature_row
from tests.hostile import HOSTILE_STRINGS

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SIGN = "/letters/civic-space/sign/"


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    settings.SIGNUP_RATE_LIMIT = "100000/m"


def snapshot():
    return (
        list(Signature.objects.order_by("pk").values_list("pk", "status", "updated_at")),
        Individual.objects.count(),
        Organization.objects.count(),
    )


def approve_everything() -> None:
    now = timezone.now()
    Signature.objects.update(
        status=Signature.Status.APPROVED, signed_at=now, confirmed_at=now, updated_at=now
    )


def public_outputs(client) -> dict[str, str]:
    pages = {}
    for url in ("/letters/civic-space/", "/letters/civic-space/print/"):
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = response.content.decode()
    for url in ("/letters/civic-space/signatories.csv", "/letters/civic-space/signatories.json"):
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = b"".join(
            response.streaming_content if response.streaming else [response.content]
        ).decode("utf-8-sig")
    return pages


def assert_inert(pages: dict[str, str], stored: list[str]) -> None:
    for url in ("/letters/civic-space/", "/letters/civic-space/print/"):
        html = pages[url]
        assert "<script" not in html.lower(), url
        for value in stored:
            if "<" in value:
                assert value not in html, (url, value)
    rows = list(csv.reader(io.StringIO(pages["/letters/civic-space/signatories.csv"])))
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(FORMULA_TRIGGERS), cell
    data = json.loads(pages["/letters/civic-space/signatories.json"])
    printed = {entry["name"] for entry in data["signatories"]}
    # JSON carries the stored text unchanged (it is data, not a spreadsheet).
    assert printed == set(stored)


def test_hostile_strings_in_the_individual_signup_form(client, letter):
    accepted, refused = [], 0
    for i, value in enumerate(HOSTILE_STRINGS):
        before = snapshot()
        data = {"kind": "individual", "name": value, "title": value, "email": f"h{i}@example.org"}
        response = client.post(SIGN, data | {"public_consent": "on", "country": ""})
        assert response.status_code in {200, 302, 400}, (value, response.status_code)
        if response.status_code == 302:
            accepted.append(Individual.objects.get(email=f"h{i}@example.org").name)
        else:
            refused += 1
            assert snapshot() == before, value  # a refused submission changes nothing
    assert accepted and refused  # the corpus exercises both paths
    approve_everything()
    assert_inert(public_outputs(client), accepted)


def test_hostile_strings_in_the_organization_signup_form(client, letter):
    accepted = []
    for i, value in enumerate(HOSTILE_STRINGS):
        data = {
            "kind": "organization",
            "organization_name": value,
            "acronym": value[:50],
            "website": value,
            "name": value,
            "email": f"org{i}@example.org",
            "public_consent": "on",
        }
        response = client.post(SIGN, data)
        assert response.status_code in {200, 302, 400}, (value, response.status_code)
        if response.status_code == 302 and (
            org := Organization.objects.filter(contact_email=f"org{i}@example.org").first()
        ):
            accepted.append(org.name)
    assert accepted
    approve_everything()
    assert_inert(public_outputs(client), accepted)


def test_hostile_e_mail_addresses(client, letter):
    for value in HOSTILE_STRINGS:
        before = snapshot()
        response = client.post(
            SIGN, {"kind": "individual", "name": "Ann Example", "email": value, "public_consent": "on"}
        )
        assert response.status_code in {200, 302, 400}, (value, response.status_code)
        if response.status_code != 302:
            assert snapshot() == before


def test_invalid_utf8_and_oversized_form_bodies(client, letter, settings):
    signature_row(letter, make_individual("Kept Signer"))
    before = snapshot()
    for body in (b"name=%FF%FE&email=x%40example.org", b"name=\xff\xfe\x00&email=\xc3\x28", b"\xff" * 1000):
        response = client.post(SIGN, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code in {200, 400}, body
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = client.post(
        SIGN,
        b"name=" + b"A" * 20_000 + b"&email=big%40example.org",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert snapshot() == before


def _write_csv(path, names):
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["type", "name", "title", "acronym", "country", "signed_on"])
        for name in names:
            writer.writerow(["individual", name, name, "", "", "2023-09-01"])


def _write_xlsx(path, names):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["type", "name", "title", "acronym", "country", "signed_on"])
    for name in names:
        # openpyxl itself refuses control characters in cells; such a file cannot exist.
        safe = "".join(char for char in name if char >= " " or char in "\t\n\r") or "x"
        sheet.append(["individual", safe, "", "", "", "2023-09-01"])
    book.save(path)


@pytest.mark.parametrize("writer", [_write_csv, _write_xlsx], ids=["csv", "xlsx"])
def test_hostile_strings_in_imported_files(client, letter, tmp_path, writer):
    suffix = ".csv" if writer is _write_csv else ".xlsx"
    for i, value in enumerate(HOSTILE_STRINGS):
        path = tmp_path / f"row{i}{suffix}"
        writer(path, [value])
        before = snapshot()
        try:
            call_command(
                "import_signatures", "civic-space", str(path), stdout=io.StringIO(), stderr=io.StringIO()
            )
        except CommandError:
            assert snapshot() == before, value  # all or nothing
    stored = list(Individual.objects.values_list("name", flat=True))
    assert stored
    assert_inert(public_outputs(client), stored)

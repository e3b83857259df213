"""Staff see who signed unnamed: a filter and a mark in the queue, a column in the private export."""

import csv
import io

import pytest

from tests.factories import export, make_individual, signature_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def signatures(letter):
    signature_row(letter, make_individual("Hidden Defender"), unnamed=True)
    signature_row(letter, make_individual("Open Person"))


def test_the_queue_marks_and_filters_unnamed_signatures(staff_client, signatures):
    html = staff_client.get("/admin/letters/signature/?queue=all").content.decode()
    assert "approved, unnamed" in html
    html = staff_client.get("/admin/letters/signature/?queue=all&unnamed__exact=1").content.decode()
    assert "Hidden Defender" in html and "Open Person" not in html


def test_a_signature_page_shows_it(staff_client, signatures):
    from letters.models import Signature

    signature = Signature.objects.get(unnamed=True)
    html = staff_client.get(f"/admin/letters/signature/{signature.pk}/change/").content.decode()
    assert "Unnamed" in html


def test_the_private_export_names_them_with_the_flag(staff_client, signatures):
    rows = list(csv.DictReader(io.StringIO(export(staff_client, 0).decode("utf-8-sig"), newline="")))
    flags = {row["name"]: row["unnamed"] for row in rows}
    assert flags == {"Hidden Defender": "1", "Open Person": "0"}


def test_staff_see_and_set_a_persons_family_name(staff_client, letter):
    person = make_individual("Lee Yanghee", family_name="Lee")
    html = staff_client.get(f"/admin/signatories/individual/{person.pk}/change/").content.decode()
    assert 'name="family_name"' in html and 'value="Lee"' in html

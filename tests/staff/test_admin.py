"""The letter admin: counts per status, and the links organizers use on delivery day."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from letters.models import Signature
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db


def add_signatures(letter):
    signature_row(letter, make_individual(), status=Signature.Status.PENDING)
    for _ in range(2):
        signature_row(
            letter, make_organization(), status=Signature.Status.CONFIRMED, signed_at=dt.datetime.now(dt.UTC)
        )
    for _ in range(3):
        signature_row(letter, make_individual())
    signature_row(letter, make_individual(), withdrawn_at=dt.datetime(2023, 9, 5, tzinfo=dt.UTC))
    signature_row(letter, make_individual(), status=Signature.Status.REJECTED)


def test_the_letter_list_counts_signatures_by_status(staff_client, letter):
    add_signatures(letter)

    response = staff_client.get("/admin/letters/letter/")

    row = response.context["cl"].result_list[0]
    counts = (row.n_pending, row.n_awaiting, row.n_approved, row.n_withdrawn, row.n_rejected)
    assert counts == (1, 2, 3, 1, 1)
    html = response.content.decode()
    assert "2 awaiting approval" in html and "3 approved" in html
    assert f"/admin/letters/signature/?letter={letter.pk}&amp;queue=awaiting" in html


def test_the_letter_list_costs_the_same_queries_for_two_or_twenty_letters(staff_client):
    def queries_for(n: int) -> int:
        for _ in range(n):
            add_signatures(make_letter())
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get("/admin/letters/letter/").status_code == 200
        return len(queries)

    assert queries_for(2) == queries_for(18)


def test_the_letter_page_links_to_the_public_page_and_the_dated_outputs(staff_client, letter):
    add_signatures(letter)

    html = staff_client.get(f"/admin/letters/letter/{letter.pk}/change/").content.decode()

    assert "3 approved" in html
    assert 'href="/letters/civic-space/"' in html
    assert 'action="/letters/civic-space/print/"' in html
    assert 'formaction="/letters/civic-space/letter.pdf"' in html
    assert 'formaction="/letters/civic-space/signatories.csv"' in html
    assert 'name="as_of"' in html
    assert f"/admin/letters/signature/import/?letter={letter.pk}" in html


def test_the_dated_links_lead_to_the_list_of_that_day(staff_client, letter):
    signature_row(letter, make_individual("Early Signer"), dt.datetime(2023, 9, 1, 16, tzinfo=dt.UTC))
    signature_row(letter, make_individual("Late Signer"), dt.datetime(2023, 9, 10, 16, tzinfo=dt.UTC))

    response = staff_client.get("/letters/civic-space/signatories.csv", {"as_of": "2023-09-02"})
    csv_text = b"".join(response.streaming_content).decode()

    assert "Early Signer" in csv_text and "Late Signer" not in csv_text


def test_a_new_letter_can_be_added_without_counts(staff_client):
    response = staff_client.get("/admin/letters/letter/add/")
    assert response.status_code == 200
    assert "dated-outputs" not in response.content.decode()


def test_a_count_link_opens_that_part_of_that_letters_signatures(staff_client, letter):
    add_signatures(letter)
    add_signatures(make_letter())

    response = staff_client.get("/admin/letters/signature/", {"letter": letter.pk, "queue": "approved"})

    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert len(rows) == 3 and {row.letter_id for row in rows} == {letter.pk}

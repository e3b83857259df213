import datetime as dt

import pytest

from letters.models import Delivery
from tests.factories import make_individual, signature_row

pytestmark = pytest.mark.django_db


def test_the_letter_page_links_every_output_for_the_chosen_day(client, letter):
    signature_row(letter, make_individual("Åsa Lindqvist"))
    html = client.get("/letters/civic-space/?as_of=2023-09-21").content.decode()
    for url in [
        "/letters/civic-space/print/?as_of=2023-09-21",
        "/letters/civic-space/letter.pdf?as_of=2023-09-21",
        "/letters/civic-space/letter.pdf?as_of=2023-09-21&amp;paper=letter",
        "/letters/civic-space/signatories.csv?as_of=2023-09-21",
        "/letters/civic-space/signatories.json?as_of=2023-09-21",
    ]:
        assert f'href="{url}"' in html


def test_the_letter_page_lists_the_deliveries(client, letter, django_assert_max_num_queries):
    for number in (1, 2):
        # Recorded directly: the listing is what is tested here, not the freezing.
        Delivery.objects.create(
            letter=letter,
            number=number,
            as_of=dt.date(2023, 9, 20 + number),
            recipient=f"Recipient {number}",
            pdf=b"%PDF-",
        )
    with django_assert_max_num_queries(8) as queries:
        html = client.get("/letters/civic-space/").content.decode()
    delivery_queries = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "letters_delivery"')
    ]
    assert len(delivery_queries) == 1
    assert '"pdf"' not in delivery_queries[0]  # the PDF bytes stay in the database
    assert html.index("/letters/civic-space/deliveries/1/") < html.index("/letters/civic-space/deliveries/2/")
    assert "the list as of 22 September 2023, delivered to Recipient 2" in html
    assert "/letters/civic-space/deliveries/2/since/" in html


def test_a_letter_without_deliveries_lists_none(client, letter):
    assert "deliveries/" not in client.get("/letters/civic-space/").content.decode()

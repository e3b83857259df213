"""A delivery keeps what it froze; its public page says how many of its entries staff took off since."""

import datetime as dt

import pytest

from letters import lifecycle
from letters.models import Delivery
from letters.rosters import Roster
from tests.factories import make_individual, signature_row

pytestmark = pytest.mark.django_db

DAY = dt.date(2023, 9, 21)


@pytest.fixture
def delivery(letter):
    signature_row(letter, make_individual("Real Signer"))
    forged = signature_row(letter, make_individual("Famous Writer"))
    roster = Roster(letter, DAY)
    ids = list(letter.signatures.order_by("individual__collation_key").values_list("pk", flat=True))
    delivery = Delivery.objects.create(
        letter=letter,
        number=1,
        as_of=DAY,
        recipient="The Minister",
        entries=[entry.as_dict() for entry in roster.entries()],
        signature_ids=ids,
    )
    delivery.forged = forged
    return delivery


def test_the_delivery_page_keeps_a_suspended_entry_and_counts_it(client, delivery, staff):
    lifecycle.signature_suspend(signature=delivery.forged, user=staff, reason="Disputed")
    page = client.get(f"/letters/{delivery.letter.slug}/deliveries/1/").content.decode()
    assert "Famous Writer" in page
    assert "1 entry of this delivery has been suspended or removed by the organizers since" in page


def test_the_since_page_lists_it_as_no_longer_listed(client, delivery, staff):
    lifecycle.signature_suspend(signature=delivery.forged, user=staff, reason="Disputed")
    page = client.get(f"/letters/{delivery.letter.slug}/deliveries/1/since/").content.decode()
    assert 'class="count-removed">1<' in page


def test_nothing_is_said_before_a_suspension(client, delivery):
    page = client.get(f"/letters/{delivery.letter.slug}/deliveries/1/").content.decode()
    assert "suspended or removed" not in page

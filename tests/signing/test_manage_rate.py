"""
The signer's page and correction links are rate limited (MANAGE_RATE_LIMIT),
per signature and per client: each change is a new list, new ETags and PDF
renders queued beside the signers' confirmation e-mails.
"""

import pytest

from letters.models import Correction
from letters.signing.tokens import make_correction_token, make_manage_token
from tests.factories import make_individual, make_letter, signature_row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.MANAGE_RATE_LIMIT = "3/10m"


def listed(letter, name: str):
    return signature_row(letter, make_individual(name, title="Professor", email=f"{name[0]}@example.org"))


def correct(client, signature, title: str, ip: str = "198.51.100.7"):
    data = {"action": "correct", "name": signature.individual.name, "title": title}
    return client.post(f"/manage/{make_manage_token(signature.pk)}/", data, REMOTE_ADDR=ip)


def test_twenty_corrections_in_a_row_stop_after_the_allowance(client):
    letter = make_letter(slug="civic-space", requires_approval=False)
    jane = listed(letter, "Jane Doe")

    statuses = [correct(client, jane, f"Title {n}").status_code for n in range(20)]

    assert statuses == [302] * 3 + [429] * 17
    response = correct(client, jane, "Title 99")
    assert 0 < int(response["Retry-After"]) <= 600
    assert "Too many attempts" in response.content.decode()
    jane.individual.refresh_from_db()
    assert jane.individual.title == "Title 2"  # the refused ones changed nothing
    assert client.get(f"/manage/{make_manage_token(jane.pk)}/").status_code == 200  # reading is never limited


def test_the_allowance_is_per_signature_whatever_the_address(client):
    letter = make_letter(slug="civic-space", requires_approval=False)
    jane = listed(letter, "Jane Doe")
    statuses = [correct(client, jane, f"Title {n}", ip=f"203.0.113.{n}").status_code for n in range(4)]
    assert statuses == [302, 302, 302, 429]


def test_the_allowance_is_per_client_across_signatures(client):
    letter = make_letter(slug="civic-space", requires_approval=False)
    signers = [listed(letter, name) for name in ("Ana", "Ben", "Cleo", "Dan")]
    statuses = [correct(client, signer, "Dean").status_code for signer in signers]
    assert statuses == [302, 302, 302, 429]
    signers[3].individual.refresh_from_db()
    assert signers[3].individual.title == "Professor"


def test_correction_links_pressed_again_and_again_are_limited(client):
    letter = make_letter(slug="civic-space", requires_approval=False)
    jane = listed(letter, "Jane Doe")
    correction = Correction.objects.create(signature=jane, name="Jane Q. Doe", title="Professor")
    url = f"/confirm-correction/{make_correction_token(correction.pk)}/"
    statuses = [client.post(url, REMOTE_ADDR=f"203.0.113.{n}").status_code for n in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    assert client.get(url).status_code == 200

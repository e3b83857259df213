"""Every hostile string through the public pages' inputs: 2xx or 4xx, never a 500, nothing changed."""

import pytest
from django.contrib.auth.models import User

from letters.models import Signature
from tests.factories import make_individual, signature_row
from tests.hostile import HOSTILE_STRINGS

pytestmark = pytest.mark.django_db


def test_the_corpus_is_large_and_varied():
    assert len(HOSTILE_STRINGS) >= 150
    assert any("\x00" in s for s in HOSTILE_STRINGS)
    assert any("\r\n" in s for s in HOSTILE_STRINGS)
    assert any("\u202e" in s for s in HOSTILE_STRINGS)
    assert any(len(s) >= 10000 for s in HOSTILE_STRINGS)


def test_as_of_never_fails_with_a_500(client, letter):
    signature_row(letter, make_individual("Kept Signer"))
    before = list(Signature.objects.values_list("pk", "status", "updated_at"))
    for value in HOSTILE_STRINGS:
        for url in ("/letters/civic-space/", "/"):
            response = client.get(url, {"as_of": value})
            assert response.status_code in {200, 400}, (value, response.status_code)
    assert list(Signature.objects.values_list("pk", "status", "updated_at")) == before


def test_hostile_slugs_are_404(client, letter):
    for value in HOSTILE_STRINGS[:60]:
        response = client.get("/letters/" + value.replace("/", "%2F") + "/")
        assert response.status_code in {400, 404}, (value, response.status_code)


def test_invalid_utf8_in_the_query_string_is_not_a_500(client, letter):
    for query in ("as_of=%FF%FE", "as_of=%C3%28", "as_of=%ED%A0%80", "%FF=1", "as_of=2023-09-21%00"):
        response = client.get("/letters/civic-space/?" + query)
        assert response.status_code in {200, 400}, query


@pytest.mark.slow
def test_admin_search_with_hostile_strings(client, letter):
    signature_row(letter, make_individual("Searchable Person", email="someone@example.org"))
    staff = User.objects.create_superuser("boss", "boss@example.org", "pw")
    client.force_login(staff)
    for path in (
        "/admin/letters/signature/",
        "/admin/letters/letter/",
        "/admin/signatories/individual/",
        "/admin/signatories/organization/",
    ):
        for value in HOSTILE_STRINGS:
            response = client.get(path, {"q": value})
            assert response.status_code in {200, 302, 400}, (path, value, response.status_code)

"""
"Is your name here without your consent?": a reader disputes an entry from a
public list, without an account; organizers hear of it at once by e-mail.
"""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from letters.models import Dispute, Letter
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db

URL = "/letters/civic-space/dispute/"


@pytest.fixture
def listed(letter):
    named = signature_row(letter, make_individual("Famous Writer"))
    signature_row(letter, make_individual("Hidden Defender"), unnamed=True)
    signature_row(letter, make_organization("Example Network", acronym="EN"))
    return named


@pytest.fixture
def organizer(django_user_model):
    user = django_user_model.objects.create_user("org", "org@example.org", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Organizer"))
    return user


def data(signature, **fields):
    return {
        "entry": str(signature.pk),
        "contact_email": "writer@example.org",
        "message": "I did not sign.",
    } | fields


def test_every_public_list_links_to_the_dispute_form(client, listed):
    for url in ("/letters/civic-space/", "/letters/civic-space/print/"):
        assert 'href="/letters/civic-space/dispute/"' in client.get(url).content.decode(), url


def test_the_form_offers_the_named_entries_only(client, listed):
    html = client.get(URL).content.decode()
    assert "Famous Writer" in html and "Example Network (EN)" in html
    assert "Hidden Defender" not in html


def test_a_dispute_is_stored_and_the_organizers_are_told_at_once(post, listed, organizer, staff, mailoutbox):
    response = post(URL, data(listed))
    assert response.status_code == 302 and response["Location"] == URL + "?sent=1"
    dispute = Dispute.objects.get()
    assert (dispute.signature, dispute.status, dispute.contact_email) == (
        listed,
        "open",
        "writer@example.org",
    )
    [message] = mailoutbox
    assert sorted(message.to) == ["org@example.org", "organizer@example.org"]
    assert f"/admin/letters/dispute/{dispute.pk}/change/" in message.body
    # The e-mail leaves the staff panel: no name, no reader's address, no message.
    for private in ("Famous Writer", "writer@example.org", "I did not sign"):
        assert private not in message.body and private not in message.subject


def test_a_moderator_is_not_told(post, listed, moderator, mailoutbox):
    post(URL, data(listed))
    assert not mailoutbox


def test_errors_show_next_to_the_fields_and_nothing_is_stored(client, listed):
    response = client.post(URL, data(listed, entry="", contact_email="not-an-address", message="  "))
    assert response.status_code == 400
    html = response.content.decode()
    for field in ("entry", "contact_email", "message"):
        assert f'id="id_{field}_error"' in html, field
    assert not Dispute.objects.exists()


@pytest.mark.parametrize("entry", ["999999", "abc", "-1", "1e3", "\x00", "9" * 40, "１"])
def test_an_entry_not_on_the_list_is_an_error(client, listed, entry):
    assert client.post(URL, data(listed, entry=entry)).status_code == 400
    assert not Dispute.objects.exists()


def test_an_unnamed_entry_cannot_be_disputed_by_its_number(client, letter, listed):
    hidden = letter.signatures.get(unnamed=True)
    assert client.post(URL, data(hidden)).status_code == 400
    assert not Dispute.objects.exists()


def test_an_entry_of_another_letter_is_an_error(client, listed):
    other = signature_row(make_letter(), make_individual("Elsewhere"))
    assert client.post(URL, data(other)).status_code == 400
    assert not Dispute.objects.exists()


def test_it_is_rate_limited(client, listed):
    codes = [client.post(URL, data(listed)).status_code for _ in range(6)]
    assert codes == [302] * 5 + [429]
    assert Dispute.objects.count() == 5


def test_a_bot_filling_the_honeypot_stores_nothing(client, listed):
    assert client.post(URL, data(listed, comment="spam")).status_code == 302
    assert not Dispute.objects.exists()


def test_the_thanks_page_says_what_happens_next(client, listed):
    assert "The organizers have been told" in client.get(URL + "?sent=1").content.decode()


def test_a_circulating_letter_needs_its_key(client):
    letter = make_letter(slug="quiet", status=Letter.Status.CIRCULATING)
    signature_row(letter, make_individual("Famous Writer"))
    assert client.get("/letters/quiet/dispute/").status_code == 404
    assert client.get("/letters/quiet/dispute/", {"key": letter.private_key}).status_code == 200


def test_a_draft_has_no_dispute_form(client):
    make_letter(slug="draft", status=Letter.Status.DRAFT)
    assert client.get("/letters/draft/dispute/").status_code == 404


def test_a_long_list_is_searched_by_name_first(client, listed, monkeypatch):
    monkeypatch.setattr("letters.views.disputes.SELECT_MAX", 1)
    html = client.get(URL).content.decode()
    assert 'name="q"' in html and "Famous Writer" not in html
    html = client.get(URL, {"q": "famous"}).content.decode()
    assert "Famous Writer" in html and "Example Network" not in html
    assert "Hidden Defender" not in client.get(URL, {"q": "hidden"}).content.decode()
    assert "No entry of today’s list has that name" in client.get(URL, {"q": "nobody"}).content.decode()


def test_an_entry_of_a_long_list_can_be_sent(post, listed, monkeypatch):
    monkeypatch.setattr("letters.views.disputes.SELECT_MAX", 1)
    assert post(URL, data(listed)).status_code == 302
    assert Dispute.objects.get().signature == listed


def test_the_form_costs_the_same_queries_for_a_short_or_a_longer_list(
    client, letter, django_assert_num_queries
):
    signature_row(letter, make_individual("First Person"))
    with CaptureQueriesContext(connection) as short:
        client.get(URL)
    for n in range(30):
        signature_row(letter, make_individual(f"Person {n}"))
        signature_row(letter, make_organization(f"Organization {n}"))
    with django_assert_num_queries(len(short)):
        assert "Person 29" in client.get(URL).content.decode()

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from letters.models import Signature
from letters.tokens import make_confirm_token, make_withdraw_token

from .factories import make_individual, make_organization, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    def post(url, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {})

    return post


@pytest.fixture
def signature(letter):
    individual = make_individual("Jane Doe", title="Professor", email="jane@example.org")
    signed_at = dt.datetime(2023, 9, 1, 12, tzinfo=dt.UTC)
    return sign(letter, individual, signed_at=signed_at, contact_email="jane@example.org")


def url(signature: Signature) -> str:
    return f"/withdraw/{make_withdraw_token(signature.pk)}/"


def test_the_page_shows_what_will_be_withdrawn_and_a_button(client, signature):
    response = client.get(url(signature))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Jane Doe" in html and "Professor" in html and "Protect civic space" in html
    assert 'method="post"' in html
    assert "Withdraw my signature" in html
    assert "jane@example.org" not in html


def test_opening_the_link_never_withdraws(client, signature):
    client.get(url(signature))
    client.head(url(signature))
    signature.refresh_from_db()
    assert signature.withdrawn_at is None


def test_the_button_withdraws_and_the_roster_follows_the_as_of_rule(client, post, signature):
    response = post(url(signature), {"reason": "  Changed jobs.\n"})
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.withdrawn_at is not None
    assert signature.withdrawal_reason == "Changed jobs."
    assert signature.status == Signature.Status.APPROVED  # a state with a timestamp, not a deletion

    today = client.get("/letters/civic-space/").content.decode()
    assert "Jane Doe" not in today
    before = client.get("/letters/civic-space/?as_of=2023-09-21").content.decode()
    assert "Jane Doe" in before

    html = client.get(response["Location"]).content.decode()
    assert "Signature withdrawn" in html
    [receipt] = mail.outbox
    assert receipt.to == ["jane@example.org"]
    assert receipt.subject == "Your signature was withdrawn: Protect civic space"


def test_withdrawing_twice_keeps_the_first_date(post, signature):
    post(url(signature))
    signature.refresh_from_db()
    first = signature.withdrawn_at
    post(url(signature), {"reason": "again"})
    signature.refresh_from_db()
    assert signature.withdrawn_at == first
    assert signature.withdrawal_reason == ""
    assert len(mail.outbox) == 1


def test_a_pending_signature_can_be_withdrawn_and_then_never_confirmed(client, post, letter):
    pending = sign(letter, make_organization("Open Society"), status="pending", contact_email="a@example.org")
    post(url(pending))
    client.get(f"/confirm/{make_confirm_token(pending.pk)}/")
    pending.refresh_from_db()
    assert pending.withdrawn_at is not None
    assert pending.status == Signature.Status.PENDING


def test_an_over_long_reason_is_refused_and_nothing_changes(post, signature):
    response = post(url(signature), {"reason": "x" * 501})
    assert response.status_code == 400
    assert "under 500 characters" in response.content.decode()
    signature.refresh_from_db()
    assert signature.withdrawn_at is None


def test_control_characters_in_the_reason_are_dropped(post, signature):
    post(url(signature), {"reason": "bye\x00\x07 now"})
    signature.refresh_from_db()
    assert signature.withdrawal_reason == "bye now"


@pytest.mark.parametrize("token", ["nonsense", "MQ:1abc:forged"])
def test_a_tampered_link_withdraws_nothing(client, signature, token):
    assert client.get(f"/withdraw/{token}/").status_code == 400
    response = client.post(f"/withdraw/{token}/")
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    signature.refresh_from_db()
    assert signature.withdrawn_at is None


def test_a_confirmation_token_does_not_withdraw(client, signature):
    response = client.post(f"/withdraw/{make_confirm_token(signature.pk)}/")
    assert response.status_code == 400
    signature.refresh_from_db()
    assert signature.withdrawn_at is None


def test_one_signatures_link_never_acts_on_another(client, letter, signature):
    other = sign(letter, make_individual("Other Person"))
    client.post(url(other))
    signature.refresh_from_db()
    other.refresh_from_db()
    assert signature.withdrawn_at is None
    assert other.withdrawn_at is not None
    assert other.withdrawn_at <= timezone.now()


@pytest.mark.parametrize("kind", ["confirm", "already-signed", "withdrawn"])
def test_every_message_to_the_signer_carries_the_withdrawal_link(signature, kind):
    from letters.tasks import signature_email

    message = signature_email(signature, kind)
    link = f"http://127.0.0.1:8000/withdraw/{make_withdraw_token(signature.pk)}/"
    assert link in message.body  # the plain-text part
    assert link in message.alternatives[0].content
    assert "\n" not in message.subject

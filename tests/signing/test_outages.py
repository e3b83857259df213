"""
A database outage on the signer's pages and links: 503 with Retry-After and a
page that says to try again in a minute and that nothing was changed, never
the 500 page ("Nothing you sent was lost").
"""

import contextlib
from unittest import mock

import pytest
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection

from letters.models import Signature
from letters.signing.tokens import make_confirm_token, make_manage_token
from tests.factories import make_individual, signature_row

pytestmark = pytest.mark.django_db

SIGNER = "signer@example.org"
OUTAGES = [
    OperationalError("connection refused"),
    InterfaceError("connection already closed"),
    DatabaseError("server closed the connection unexpectedly"),
]


@pytest.fixture
def pending(letter):
    return signature_row(
        letter, make_individual("Signer", email=SIGNER), status="pending", contact_email=SIGNER
    )


def assert_try_again(response, *, french: bool = False) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    if french:
        assert "Réessayez dans une minute" in html and "Rien n’a été modifié" in html
        assert "n’a été perdu" not in html
        return
    assert "Please try again in a minute" in html
    assert "Nothing was changed" in html
    assert "Nothing you sent was lost" not in html


@pytest.mark.parametrize("error", OUTAGES)
def test_the_sign_page_during_an_outage(client, letter, error):
    with mock.patch("letters.views.signup.get_letter_for_visitor", side_effect=error):
        response = client.get("/letters/civic-space/sign/?as=individual")
    assert_try_again(response)
    assert 'href="/letters/civic-space/sign/?as=individual"' in response.content.decode()


@pytest.mark.parametrize("error", OUTAGES)
@pytest.mark.parametrize("page", ["confirm", "manage"])
def test_a_signers_link_opened_during_an_outage(client, pending, page, error):
    token = (make_confirm_token if page == "confirm" else make_manage_token)(pending.pk)
    with mock.patch("letters.views.signup._signature", side_effect=error):
        response = client.get(f"/{page}/{token}/")
    assert_try_again(response)
    assert response["Cache-Control"].startswith("max-age=0")  # never kept


def test_confirming_when_the_connection_drops_changes_nothing(client, pending):
    token = make_confirm_token(pending.pk)
    with mock.patch("letters.lifecycle.signature_confirm", side_effect=InterfaceError("connection closed")):
        response = client.post(f"/confirm/{token}/")
    assert_try_again(response)
    pending.refresh_from_db()
    assert pending.status == Signature.Status.PENDING


def test_the_signers_page_posted_during_an_outage_changes_nothing(client, pending):
    token = make_manage_token(pending.pk)
    with mock.patch("letters.views.signup._signature", side_effect=OperationalError("connection refused")):
        response = client.post(f"/manage/{token}/", {"action": "withdraw", "understood": "on", "reason": ""})
    assert_try_again(response)
    pending.refresh_from_db()
    assert pending.withdrawn_at is None


@pytest.mark.parametrize("error", OUTAGES)
def test_asking_for_a_new_link_during_an_outage(client, letter, pending, error):
    with mock.patch("letters.signing.services.confirmation_resend_for_email", side_effect=error):
        response = client.post("/letters/civic-space/sign/new-link/", {"email": SIGNER})
    assert_try_again(response)
    with mock.patch("letters.views.signup.get_letter_for_visitor", side_effect=error):
        response = client.post("/letters/civic-space/sign/new-link/", {"email": SIGNER})
    assert_try_again(response)


def test_a_bug_is_still_a_bug(client, pending):
    """An error of ours (a constraint) is not an outage: the 500 page, and the log, as before."""
    token = make_manage_token(pending.pk)
    with (
        mock.patch("letters.views.signup._signature", side_effect=IntegrityError("unique")),
        pytest.raises(IntegrityError),
    ):
        client.get(f"/manage/{token}/")


def test_the_outage_page_itself_needs_no_database(client, letter, pending):
    """The connection lost half-way through a signer's page: the page that says so reads nothing more."""
    letter.translations.create(language="fr", title="Protéger l'espace civique", body="Texte.")

    def refuse(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    with contextlib.ExitStack() as stack:

        def connection_lost(**kwargs):
            stack.enter_context(connection.execute_wrapper(refuse))
            raise InterfaceError("connection already closed")

        stack.enter_context(mock.patch("letters.lifecycle.signature_confirm", side_effect=connection_lost))
        response = client.post(f"/confirm/{make_confirm_token(pending.pk)}/?lang=fr")
    assert_try_again(response, french=True)

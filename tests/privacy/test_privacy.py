"""
No private field — e-mails, notes, IP hashes, the signer behind an organization —
reaches any public URL, whatever a signer or journalist opens.
"""

import datetime as dt
import logging
import smtplib
import subprocess
import sys
import traceback
import types

import pytest
from django.contrib.auth.models import User

from config.logs import RedactingFormatter
from letters.models import Correction, Signature
from letters.signing.tokens import make_confirm_token, make_correction_token, make_manage_token
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db

SECRETS = [
    "private.person@secret-mail.example",
    "orgcontact@secret-mail.example",
    "signer.behind.org@secret-mail.example",
    "PRIVATE-NOTE-ABOUT-INDIVIDUAL",
    "PRIVATE-NOTE-ABOUT-ORGANIZATION",
    "PRIVATE-NOTE-ON-SIGNATURE",
    "Secret Signer Person",
    "Org Contact Person",
    "f00dfacecafebeef0123456789abcdef",  # an IP hash
    "Withdrawal reason that is private",
    "Rejection reason that is private",
]


@pytest.fixture
def private_letter(db):
    letter = make_letter(slug="private", timezone="Europe/Zurich")
    signed = dt.datetime(2023, 9, 20, 9, tzinfo=dt.UTC)
    person = make_individual(
        "Public Person", title="Public title", email=SECRETS[0], notes=SECRETS[3], country="KR"
    )
    org = make_organization(
        "Public Org",
        acronym="PO",
        contact_email=SECRETS[1],
        contact_name=SECRETS[7],
        notes=SECRETS[4],
    )
    signature_row(
        letter, person, signed_at=signed, contact_email=SECRETS[0], ip_hash=SECRETS[8], notes=SECRETS[5]
    )
    signature_row(
        letter, org, signed_at=signed, contact_email=SECRETS[2], signer_name=SECRETS[6], ip_hash=SECRETS[8]
    )
    signature_row(
        letter,
        make_individual("Gone Person", email="gone@secret-mail.example"),
        signed_at=signed,
        withdrawn_at=signed + dt.timedelta(days=2),
        withdrawal_reason=SECRETS[9],
    )
    signature_row(
        letter,
        make_individual("Fake Person", email="fake@secret-mail.example"),
        status=Signature.Status.REJECTED,
        rejection_reason=SECRETS[10],
    )
    return letter


def _record_delivery(letter) -> None:
    from letters.outputs.deliveries import delivery_record

    staff = User.objects.create_user("recorder", password="pw", is_staff=True)
    delivery_record(letter=letter, as_of=dt.date(2023, 9, 21), recipient="The Ministry", note="", user=staff)


def _public_texts(client, letter, *, pdf: bool = True) -> dict[str, str]:
    texts = {}
    urls = ["/", f"/letters/{letter.slug}/", f"/letters/{letter.slug}/?as_of=2023-09-21"]
    for suffix in ("print/", "signatories.csv", "signatories.json"):
        urls += [f"/letters/{letter.slug}/{suffix}", f"/letters/{letter.slug}/{suffix}?as_of=2023-09-21"]
    urls += [
        f"/letters/{letter.slug}/deliveries/1/",
        f"/letters/{letter.slug}/deliveries/1/since/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        texts[url] = body.decode("utf-8-sig")
    pdfs = (f"/letters/{letter.slug}/letter.pdf", f"/letters/{letter.slug}/deliveries/1/letter.pdf")
    for url in pdfs if pdf else ():
        response = client.get(url)
        assert response.status_code == 200, url
        pdf = b"".join(response.streaming_content) if response.streaming else response.content
        texts[url] = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
    return texts


@pytest.mark.slow
def test_no_public_url_shows_private_data(client, private_letter):
    _record_delivery(private_letter)
    texts = _public_texts(client, private_letter)
    for url, text in texts.items():
        assert "Public Person" in text or url == "/", url  # the page did list the roster
        for secret in SECRETS:
            assert secret not in text, (url, secret)
        assert "secret-mail.example" not in text, url
        assert "Fake Person" not in text, url


def test_signup_pages_of_another_signer_show_nothing_private(client, private_letter):
    from letters.signing.tokens import make_confirm_token, make_manage_token

    signature = Signature.objects.get(letter=private_letter, individual__name="Public Person")
    for url in (
        f"/confirm/{make_confirm_token(signature.pk)}/",
        f"/manage/{make_manage_token(signature.pk)}/",
    ):
        response = client.get(url)
        assert response.status_code in {200, 400, 404}, url
        text = response.content.decode()
        for secret in SECRETS:
            assert secret not in text, (url, secret)


@pytest.mark.slow
def test_an_erased_signer_is_on_no_public_url_and_their_private_data_is_gone(client, private_letter):
    from letters.lifecycle import signature_erase

    _record_delivery(private_letter)
    signature = Signature.objects.get(letter=private_letter, individual__name="Public Person")

    signature_erase(signature=signature)

    texts = _public_texts_after_erasure(client, private_letter)
    for url, text in texts.items():
        assert "Public Person" not in text and "Public title" not in text, url
        assert "Public Org" in text or url in {"/"}, url
    signature.refresh_from_db()
    person = signature.individual
    assert SECRETS[0] not in {signature.contact_email, person.email, person.canonical_email}
    assert (signature.ip_hash, signature.notes, person.notes) == ("", "", "")


def _public_texts_after_erasure(client, letter) -> dict[str, str]:
    """Every public page after an erasure; the delivered PDF is then kept for staff (410 for the public)."""
    assert client.get(f"/letters/{letter.slug}/deliveries/1/letter.pdf").status_code == 410
    texts = {}
    for url in [
        f"/letters/{letter.slug}/",
        f"/letters/{letter.slug}/?as_of=2023-09-21",
        f"/letters/{letter.slug}/print/?as_of=2023-09-21",
        f"/letters/{letter.slug}/signatories.csv?as_of=2023-09-21",
        f"/letters/{letter.slug}/signatories.json?as_of=2023-09-21",
        f"/letters/{letter.slug}/deliveries/1/",
        f"/letters/{letter.slug}/deliveries/1/since/",
    ]:
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        texts[url] = body.decode("utf-8-sig")
    pdf = client.get(f"/letters/{letter.slug}/letter.pdf?as_of=2023-09-21").content
    texts["pdf"] = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return texts


# -- retention -----------------------------------------------------------------------

# What the purge deletes; the rejection reason and an organization's notes are staff's own records.
PURGED = [secret for secret in SECRETS if secret not in {SECRETS[4], SECRETS[10]}]


def _stored_text() -> str:
    from signatories.models import Individual, Organization

    rows = [
        *Signature.objects.values_list(),
        *Individual.objects.values_list(),
        *Organization.objects.values_list(),
    ]
    return repr(rows)


def test_the_purge_deletes_the_private_data_and_changes_no_public_page(client, private_letter, settings):
    from letters.lifecycle.retention import personal_data_purge
    from letters.models import Letter

    settings.RETENTION_DAYS = 365
    Letter.objects.filter(pk=private_letter.pk).update(closes_at=dt.datetime(2023, 10, 1, tzinfo=dt.UTC))
    _record_delivery(private_letter)
    before = _public_texts(client, private_letter, pdf=False)
    assert all(secret in _stored_text() for secret in PURGED)

    personal_data_purge()

    stored = _stored_text()
    for secret in PURGED:
        assert secret not in stored, secret
    assert "secret-mail.example" not in stored
    assert _public_texts(client, private_letter, pdf=False) == before


# -- Log lines ----------------------------------------------------------------


def configured_formatter() -> logging.Formatter:
    [handler] = [h for h in logging.getLogger().handlers if isinstance(h.formatter, RedactingFormatter)]
    return handler.formatter


def test_log_lines_blank_addresses_and_link_tokens_tracebacks_included():
    token = make_manage_token(1)
    try:
        raise smtplib.SMTPRecipientsRefused({"secret.person@example.org": (550, b"5.1.1 no such user")})
    except smtplib.SMTPException:
        record = logging.getLogger("letters").makeRecord(
            "letters",
            logging.ERROR,
            __file__,
            1,
            "Bad Request: /manage/%s/ for %s",
            (token, "jane@example.org"),
            sys.exc_info(),
        )
    line = configured_formatter().format(record)
    assert "secret.person" not in line and "jane@example.org" not in line and token not in line
    assert "/manage/[link]/" in line and "SMTPRecipientsRefused" in line


def test_a_refused_address_reaches_neither_the_log_nor_the_tasks_record(letter, monkeypatch, caplog):
    # An SMTP refusal quotes the recipient: the log and the task's stored traceback kept it.
    from letters.signing.tasks import MailNotSent, send_signature_email

    def refuse(message):
        raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"5.1.1 no such user")})

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    signature = signature_row(
        letter, make_individual("Secret Person", email="secret.person@example.org"), status="pending"
    )
    signature.contact_email = "secret.person@example.org"
    signature.save()

    with pytest.raises(MailNotSent) as raised:
        send_signature_email.call(signature_id=signature.pk, kind="confirm")

    stored = "".join(traceback.format_exception(raised.value))
    assert "secret.person" not in stored and "SMTPRecipientsRefused" in stored
    assert "secret.person" not in caplog.text and "SMTPRecipientsRefused" in caplog.text


def test_the_access_log_keeps_neither_the_visitors_address_nor_a_signers_link():
    from gunicorn.config import Config

    from config.gunicorn_logs import AccessLogger

    token = make_manage_token(1)
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/manage/{token}/?lang=de",
        "PATH_INFO": f"/manage/{token}/",
        "QUERY_STRING": "lang=de",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": f"https://undersigned.example/confirm/{token}/",
    }
    response = types.SimpleNamespace(status="302 Found", sent=0, headers=[("Location", f"/manage/{token}/")])
    request = types.SimpleNamespace(headers=[("X-FORWARDED-FOR", "203.0.113.9"), ("COOKIE", "sessionid=x")])
    logger = AccessLogger(Config())
    atoms = logger.atoms_wrapper_class(logger.atoms(response, request, environ, dt.timedelta(milliseconds=3)))
    line = Config().access_log_format % atoms
    assert "203.0.113.9" not in line and token not in line and "sessionid" not in line
    assert '"POST /manage/[link]/?lang=de HTTP/1.1" 302' in line


def test_a_signers_own_pages_are_kept_by_no_browser_or_proxy(client, letter):
    # They show a signer's private entry; nothing told a shared cache or the browser not to keep them.
    signature = signature_row(letter, make_individual("Jane Doe", email="jane@example.org"), status="pending")
    correction = Correction.objects.create(signature=signature, name="Jane Q. Doe")
    pages = [
        f"/confirm/{make_confirm_token(signature.pk)}/",
        f"/manage/{make_manage_token(signature.pk)}/",
        f"/confirm-correction/{make_correction_token(correction.pk)}/",
        "/confirm/not-a-token/",
        "/manage/not-a-token/",
    ]
    for page in pages:
        response = client.get(page)
        cache_control = {part.strip() for part in response.get("Cache-Control", "").split(",")}
        assert {"private", "no-store"} <= cache_control, page


def test_erasing_a_never_confirmed_signature_scrubs_only_its_own_entries(staff, letter):
    # Sign as "Approved" (or "Verified"), never confirm, erase: every "Approved." of the admin history
    # became "[erased].", staff notes lost words, and a claim on "ACAT UK" signed as "Demo contact"
    # emptied that organization's contact fields.
    from django.contrib.admin.models import CHANGE, LogEntry

    from letters import lifecycle

    someone = signature_row(letter, make_individual("Real Person"), notes="Verified by phone. Approved.")
    LogEntry.objects.log_actions(staff.pk, [someone], CHANGE, "Approved.")
    stranger = make_individual("Approved", email="approved@example.net")
    web = signature_row(
        letter,
        stranger,
        status=Signature.Status.PENDING,
        source=Signature.Source.FORM,
        contact_email="approved@example.net",
        signer_name="Verified",
    )
    acat = make_organization("ACAT UK", contact_name="Demo contact", contact_email="demo@acat.org.uk")
    signature_row(letter, acat, source=Signature.Source.IMPORT)
    claim = signature_row(
        letter,
        acat,
        status=Signature.Status.PENDING,
        source=Signature.Source.FORM,
        signer_name="Demo contact",
        contact_email="demo@acat.org.uk",
    )

    lifecycle.signature_erase(signature=web)
    lifecycle.signature_erase(signature=claim)

    assert LogEntry.objects.get(object_id=str(someone.pk)).change_message == "Approved."
    someone.refresh_from_db()
    assert someone.notes == "Verified by phone. Approved."
    acat.refresh_from_db()
    assert (acat.contact_name, acat.contact_email) == ("Demo contact", "demo@acat.org.uk")
    web.refresh_from_db()
    assert web.erased_at is not None and web.contact_email == "" and web.signer_name == ""
    stranger.refresh_from_db()
    assert stranger.email == ""


@pytest.mark.parametrize(
    "path, query",
    [
        ("/invitations/{token}/", ""),
        ("/invitations/{token}/decline/", ""),
        ("/confirm-address/{token}/", ""),
        ("/letters/civic-space/sign/", "key={token}&lang=ko"),
    ],
)
def test_the_access_log_keeps_no_invitation_token_address_link_or_private_key(path, query):
    # Invitation tokens, address-change links and a circulating letter's private
    # key went into gunicorn's access log in clear: whoever reads the log could
    # sign as the invited partner or read the draft.
    from gunicorn.config import Config

    from config.gunicorn_logs import AccessLogger

    token = "Zq3xY7SECRETtoken_9"
    path = path.format(token=token)
    query = query.format(token=token)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"{path}?{query}" if query else path,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
    }
    response = types.SimpleNamespace(status="200 OK", sent=0, headers=[])
    request = types.SimpleNamespace(headers=[])
    logger = AccessLogger(Config())
    atoms = logger.atoms_wrapper_class(logger.atoms(response, request, environ, dt.timedelta(milliseconds=3)))
    line = Config().access_log_format % atoms
    assert token not in line
    assert "[link]" in line or "key=[key]" in line

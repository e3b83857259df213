"""
A signer who cannot be named: their name, title and country reach no public
URL of the letter, in no format, on no day, in no delivery (PRODUCT.md,
"Signers who cannot be named").
"""

import datetime as dt
import io
import subprocess

import pytest
from django.contrib.auth.models import User
from docx import Document

from letters.lifecycle import signature_publication_set
from letters.models import Signature
from letters.outputs.deliveries import delivery_record
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db

SIGNED = dt.datetime(2023, 9, 20, 9, tzinfo=dt.UTC)
# What would identify them: none of it may appear (Nauru is nobody else's country here).
HIDDEN = ["Hidden Defender", "Bureau of Hidden Affairs", "Nauru", "Shadow Collective", "SHCO"]


@pytest.fixture
def hidden_letter(db):
    letter = make_letter(slug="hidden", timezone="Europe/Zurich", requires_approval=False)
    signature_row(letter, make_individual("Public Person", country="KR"), signed_at=SIGNED)
    signature_row(letter, make_organization("Public Org", acronym="PO"), signed_at=SIGNED)
    signature_row(
        letter,
        make_individual("Hidden Defender", title="Bureau of Hidden Affairs", country="NR"),
        signed_at=SIGNED,
        unnamed=True,
    )
    signature_row(
        letter,
        make_organization("Shadow Collective", acronym="SHCO", country="NR"),
        signed_at=SIGNED,
        unnamed=True,
    )
    staff = User.objects.create_user("recorder", password="pw", is_staff=True)
    delivery_record(letter=letter, as_of=dt.date(2023, 9, 21), recipient="The Ministry", user=staff)
    return letter


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _text(url: str, body: bytes) -> str:
    if url.endswith(".pdf") or ".pdf?" in url:
        return subprocess.run(
            ["pdftotext", "-", "-"], input=body, capture_output=True, check=True
        ).stdout.decode()
    if ".docx" in url:
        return "\n".join(paragraph.text for paragraph in Document(io.BytesIO(body)).paragraphs)
    return body.decode("utf-8-sig")


def public_urls(slug: str) -> list[str]:
    urls = ["/", f"/letters/{slug}/embed/", f"/letters/{slug}/?q=Hidden", f"/letters/{slug}/?q=Shadow"]
    for page in ("", "print/", "letter.pdf", "letter.docx", "signatories.csv", "signatories.json"):
        urls += [f"/letters/{slug}/{page}", f"/letters/{slug}/{page}?as_of=2023-09-21"]
    urls += [
        f"/letters/{slug}/deliveries/1/",
        f"/letters/{slug}/deliveries/1/since/",
        f"/letters/{slug}/deliveries/1/letter.pdf",
    ]
    return urls


@pytest.mark.slow
def test_no_public_url_names_an_unnamed_signer(client, hidden_letter):
    for url in public_urls(hidden_letter.slug):
        response = client.get(url)
        assert response.status_code == 200, url
        text = _text(url, _body(response))
        headers = " ".join(f"{name}: {value}" for name, value in response.items())
        assert "Public Org" in text or "?q=" in url or url == "/", url  # the page did show the list
        for secret in HIDDEN:
            assert secret not in text, (url, secret)
            assert secret not in headers, (url, secret)


def test_the_open_graph_tags_count_them_without_naming_them(client, hidden_letter):
    html = client.get("/letters/hidden/").content.decode()
    head = html.split("</head>")[0]
    for secret in HIDDEN:
        assert secret not in head


def test_becoming_unnamed_takes_the_name_off_every_day_and_changes_the_etag(client, hidden_letter):
    etag = client.get("/letters/hidden/signatories.csv").headers["ETag"]
    signature = Signature.objects.get(individual__name="Public Person")

    signature_publication_set(signature=signature, unnamed=True)

    response = client.get("/letters/hidden/signatories.csv", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response.headers["ETag"] != etag
    for url in ("/letters/hidden/signatories.csv?as_of=2023-09-21", "/letters/hidden/?as_of=2023-09-21"):
        assert "Public Person" not in _text(url, _body(client.get(url)))


def test_a_delivery_freezes_the_unnamed_count(client, hidden_letter):
    signature_row(hidden_letter, make_organization("Later Hidden"), signed_at=SIGNED, unnamed=True)
    html = client.get("/letters/hidden/deliveries/1/").content.decode()
    assert "1 organization that cannot be named" in html or "and 1 other organization" in html
    assert "and 2 other organizations" not in html
    assert "Later Hidden" not in html

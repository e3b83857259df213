"""
Issue 12, reproduction 6: PDFs that must be rendered cost seconds each, so each client
gets PDF_RENDERS_PER_MINUTE of them; cached PDFs are always served, and no client can
make the server keep arbitrarily many.
"""

import datetime as dt
import re
from unittest import mock

import pytest
from django.core.cache import caches

from letters.outputs import cache
from letters.outputs import pdf as exports
from tests.factories import make_individual, signature_row

pytestmark = pytest.mark.django_db

PDF = "/letters/civic-space/letter.pdf"


@pytest.fixture
def renders(monkeypatch):
    made = []

    def render(roster, paper, versions=None):
        made.append(roster.as_of)
        return b"%PDF-1.7 fake"

    monkeypatch.setattr(exports, "render_pdf", render)
    return made


@pytest.fixture
def signed(letter):
    signature_row(letter, make_individual("Anna Early"), signed_at=dt.datetime(2023, 8, 1, 12, tzinfo=dt.UTC))
    return letter


def days(n: int) -> list[str]:
    return [(dt.date(2023, 9, 1) + dt.timedelta(days=i)).isoformat() for i in range(n)]


def test_twenty_cold_days_render_ten_then_ask_the_client_to_come_back(client, signed, renders):
    answers = [client.get(f"{PDF}?as_of={day}") for day in days(20)]

    assert [a.status_code for a in answers] == [200] * 10 + [429] * 10
    assert len(renders) == 10
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    html = refused.content.decode()
    assert f"come back in {refused.headers['Retry-After']} second" in html
    assert "print version" in html


def test_cached_pdfs_are_served_after_the_budget_is_spent(client, signed, renders):
    for day in days(11):
        client.get(f"{PDF}?as_of={day}")
    assert client.get(f"{PDF}?as_of={days(11)[-1]}").status_code == 429

    again = client.get(f"{PDF}?as_of={days(1)[0]}")
    assert again.status_code == 200
    assert again.content == b"%PDF-1.7 fake"
    assert len(renders) == 10


def test_the_budget_is_per_client(client, signed, renders):
    for day in days(10):
        client.get(f"{PDF}?as_of={day}", REMOTE_ADDR="203.0.113.1")
    assert client.get(f"{PDF}?as_of=2023-10-01", REMOTE_ADDR="203.0.113.1").status_code == 429
    assert client.get(f"{PDF}?as_of=2023-10-01", REMOTE_ADDR="203.0.113.2").status_code == 200


def test_the_budget_is_a_setting(client, signed, renders, settings):
    settings.PDF_RENDERS_PER_MINUTE = 2
    statuses = [client.get(f"{PDF}?as_of={day}").status_code for day in days(3)]
    assert statuses == [200, 200, 429]


def test_one_client_stores_no_more_pdfs_than_its_budget(client, signed, renders):
    for day in days(20):
        client.get(f"{PDF}?as_of={day}")
        client.get(f"{PDF}?as_of={day}&paper=letter")
    pdfs = caches["pdfs"]
    stored = [day for day in days(20) for paper in ("a4", "letter") if pdfs.get(_key(signed, day, paper))]
    assert len(stored) == 10


def test_many_clients_cannot_grow_the_pdf_cache_past_its_bound(client, signed, renders, settings):
    settings.CACHES = settings.CACHES | {
        "pdfs": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "bounded-pdfs",
            "OPTIONS": {"MAX_ENTRIES": 5},
        }
    }
    for n, day in enumerate(days(30)):
        assert client.get(f"{PDF}?as_of={day}", REMOTE_ADDR=f"198.51.100.{n}").status_code == 200
    pdfs = caches["pdfs"]
    assert sum(1 for day in days(30) if pdfs.get(_key(signed, day, "a4"))) <= 5


def _key(letter, day: str, paper: str) -> str:
    from letters.models import Letter
    from letters.rosters import Roster

    roster = Roster(Letter.objects.get(pk=letter.pk), dt.date.fromisoformat(day))
    return cache.pdf_key(letter.pk, roster.as_of, paper, roster.state())


def test_a_letters_cached_pdfs_can_be_forgotten_at_once(client, signed, renders):
    """After an erasure, the PDFs of earlier states still print the name: they go."""
    from tests.factories import make_letter

    other = make_letter(slug="other")
    signature_row(other, make_individual("Bo Other"))
    client.get(f"{PDF}?as_of=2023-09-01")
    client.get(f"{PDF}?as_of=2023-09-02&paper=letter")
    client.get("/letters/other/letter.pdf")

    assert cache.forget_pdfs(signed.pk) == 2

    assert caches["pdfs"].get(_key(signed, "2023-09-01", "a4")) is None
    assert client.get("/letters/other/letter.pdf").status_code == 200
    assert len(renders) == 3  # the other letter's PDF was still cached


def test_the_time_to_come_back_is_on_the_letters_clock(client, signed, renders, settings):
    # It said "at 24 November 2026 08:30", a UTC time with no zone, while every other time is the letter's.
    settings.PDF_RENDERS_PER_MINUTE = 0
    now = dt.datetime(2026, 11, 24, 8, 30, tzinfo=dt.UTC)  # 03:30 in New York
    with mock.patch("letters.views.outputs.timezone.now", return_value=now):
        response = client.get(f"{PDF}?lang=ko")
    assert response.status_code == 429
    notice = re.search(r'role="status">(.*?)</p>', response.content.decode(), re.S).group(1)
    assert re.search(r"2026년 11월 24일, 03:3[01] New York 시간\(EST\)", notice), notice
    assert "8:3" not in notice


# Cheap denial of service: a Word document of every day was rendered on demand, with no budget.

WORD = "/letters/civic-space/letter.docx"


@pytest.fixture
def word_renders(monkeypatch):
    from letters.outputs import word

    made = []

    def render(roster, versions):
        made.append(roster.as_of)
        return b"PK fake docx"

    monkeypatch.setattr(word, "letter_docx", render)
    return made


def test_twenty_cold_word_documents_render_ten_then_ask_the_client_to_come_back(client, signed, word_renders):
    answers = [client.get(f"{WORD}?as_of={day}") for day in days(20)]

    assert [a.status_code for a in answers] == [200] * 10 + [429] * 10
    assert len(word_renders) == 10
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert "Word documents" in refused.content.decode()


def test_pdfs_and_word_documents_share_one_budget(client, signed, renders, word_renders, settings):
    settings.PDF_RENDERS_PER_MINUTE = 4
    for day in days(2):
        assert client.get(f"{PDF}?as_of={day}").status_code == 200
        assert client.get(f"{WORD}?as_of={day}").status_code == 200
    assert client.get(f"{WORD}?as_of=2023-10-01").status_code == 429
    assert client.get(f"{PDF}?as_of=2023-10-01").status_code == 429
    assert client.get(f"{WORD}?as_of=2023-10-01", REMOTE_ADDR="203.0.113.9").status_code == 200


def test_stored_word_documents_and_current_copies_are_served_after_the_budget_is_spent(
    client, signed, word_renders, settings
):
    settings.PDF_RENDERS_PER_MINUTE = 1
    first = client.get(f"{WORD}?as_of={days(1)[0]}")
    assert first.status_code == 200
    assert client.get(f"{WORD}?as_of={days(2)[1]}").status_code == 429

    again = client.get(f"{WORD}?as_of={days(1)[0]}")
    assert again.status_code == 200 and again.content == b"PK fake docx"
    cache.clear()  # this host's stored copy is gone, the visitor's is current
    revalidated = client.get(f"{WORD}?as_of={days(1)[0]}", HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert revalidated.status_code == 304
    assert len(word_renders) == 1

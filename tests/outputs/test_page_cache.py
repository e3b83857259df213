"""
Public pages and exports are rendered once per state of the list (letters/outputs/cache.py):
a new approved name shows on the very next request, a pending one changes nothing a
visitor can observe, visitors get ETags and a public max-age, staff the live page.
"""

import datetime as dt
import gzip
import io
import os
import time
from unittest import mock

import docx
import pytest
from django.contrib.sessions.middleware import SessionMiddleware

from letters import lifecycle
from letters.lifecycle import retention
from letters.models import Letter, Signature
from letters.outputs import cache as pagecache
from letters.outputs import middleware, printing
from letters.outputs import pdf as exports
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db

OUTPUTS = {
    "Word": "/letters/civic-space/letter.docx",
    "letter page": "/letters/civic-space/",
    "print page": "/letters/civic-space/print/",
    "CSV": "/letters/civic-space/signatories.csv",
    "JSON": "/letters/civic-space/signatories.json",
    "PDF": "/letters/civic-space/letter.pdf",
    "embed": "/letters/civic-space/embed/",
}


@pytest.fixture
def fake_pdf(monkeypatch):
    """PDFs made of the print page's text, so tests can read them and need not wait for WeasyPrint."""
    renders = []

    def render(roster, paper, versions=None):
        renders.append(roster.as_of)
        return b"%PDF-fake\n" + printing.print_html(roster, paper, versions).encode()

    monkeypatch.setattr(exports, "render_pdf", render)
    return renders


def body(response) -> bytes:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content.startswith(b"PK"):  # a Word document: its text
        return "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs).encode()
    return content


def sign_up(client, email: str = "pending@example.org", name: str = "Pending Person"):
    """The real form: a submission that is not public (it waits for its confirmation)."""
    data = {"name": name, "title": "", "country": "FR", "email": email, "public_consent": "on"}
    response = client.post("/letters/civic-space/sign/", data)
    assert response.status_code == 302
    assert Signature.objects.filter(individual__email=email, status=Signature.Status.PENDING).exists()


@pytest.mark.parametrize("url", OUTPUTS.values(), ids=OUTPUTS.keys())
def test_a_newly_approved_name_shows_on_the_very_next_request(client, letter, fake_pdf, url):
    signature_row(letter, make_individual("Anna Early"))
    first = client.get(url)
    assert b"Anna Early" in body(first)
    assert b"Zora Newcomer" not in body(first)

    signature_row(letter, make_individual("Zora Newcomer"), signed_at=dt.datetime.now(dt.UTC))

    second = client.get(url)
    assert b"Zora Newcomer" in body(second)
    assert second.headers["ETag"] != first.headers["ETag"]


@pytest.mark.parametrize("url", OUTPUTS.values(), ids=OUTPUTS.keys())
def test_a_pending_submission_changes_nothing_a_visitor_can_observe(client, letter, fake_pdf, url):
    signature_row(letter, make_individual("Anna Early"))
    before = client.get(url)

    sign_up(client)

    after = client.get(url)
    assert after.headers["ETag"] == before.headers["ETag"]
    assert body(after) == body(before)
    assert client.get(url, HTTP_IF_NONE_MATCH=before.headers["ETag"]).status_code == 304


@pytest.mark.parametrize("url", OUTPUTS.values(), ids=OUTPUTS.keys())
def test_private_data_written_or_purged_changes_no_page_and_no_etag(client, letter, fake_pdf, url):
    # Staff noting something on a listed signature, or the nightly purge of signers'
    # addresses, made every page, file and ETag of the letter new: a CDN fetched them
    # all again, and anyone watching the ETag saw that staff had touched the records.
    signature = signature_row(letter, make_individual("Anna Early"), contact_email="anna@example.org")
    letter.status = Letter.Status.CLOSED
    letter.save()
    before = client.get(url)

    signature.notes = "Called her office to check."
    signature.contact_consent = True
    signature.save()
    Letter.objects.filter(pk=letter.pk).update(closed_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert retention.personal_data_purge().signatures == 1

    after = client.get(url)
    assert after.headers["ETag"] == before.headers["ETag"]
    assert body(after) == body(before)


@pytest.mark.parametrize("url", OUTPUTS.values(), ids=OUTPUTS.keys())
def test_a_signatorys_private_record_edited_changes_no_page_and_no_etag(client, letter, fake_pdf, url):
    # Staff filing a listed person's address or a contact at an organization renewed
    # every page and ETag of every letter listing them.
    person = make_individual("Anna Early", title="Professor")
    organization = make_organization("Org One", acronym="OO")
    signature_row(letter, person)
    signature_row(letter, organization)
    before = client.get(url)

    person.email = "anna@example.org"
    person.notes = "Prefers telephone."
    person.save()
    organization.contact_name = "Ben Contact"
    organization.contact_email = "ben@example.org"
    organization.website = "https://org-one.example.org"
    organization.save()

    after = client.get(url)
    assert after.headers["ETag"] == before.headers["ETag"]
    assert body(after) == body(before)


def test_the_csv_etag_does_not_tell_whether_an_address_signed(client, letter):
    """Issue 12, reproduction 4: the ETag used to count every signature of the letter."""
    signature_row(letter, make_individual("Anna Early"))
    before = client.get(OUTPUTS["CSV"]).headers["ETag"]
    sign_up(client, "victim@example.org")
    Signature.objects.filter(individual__email="victim@example.org").update(status=Signature.Status.REJECTED)
    assert client.get(OUTPUTS["CSV"]).headers["ETag"] == before


@pytest.mark.parametrize("url", OUTPUTS.values(), ids=OUTPUTS.keys())
def test_visitors_may_keep_a_copy_for_a_minute_and_revalidate_with_a_304(client, letter, fake_pdf, url):
    signature_row(letter, make_individual("Anna Early"))
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    etag = response.headers["ETag"]
    assert etag.startswith('"')

    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "public, max-age=60"


def test_the_max_age_is_a_setting(client, letter, settings):
    settings.PUBLIC_CACHE_SECONDS = 5
    assert client.get(OUTPUTS["letter page"]).headers["Cache-Control"] == "public, max-age=5"


@pytest.mark.parametrize("url", OUTPUTS.values(), ids=OUTPUTS.keys())
def test_staff_always_get_the_live_page_and_nothing_is_stored(staff_client, letter, fake_pdf, url):
    signature_row(letter, make_individual("Anna Early"))
    response = staff_client.get(url)
    assert response.status_code == 200
    assert "private" in response.headers["Cache-Control"]
    assert "no-store" in response.headers["Cache-Control"]
    assert "ETag" not in response.headers
    assert pagecache.stored_count() == 0


def test_staff_see_a_change_the_stored_page_does_not_know_about(client, staff_client, letter):
    signature_row(letter, make_individual("Anna Early"))
    client.get(OUTPUTS["letter page"])
    # Written behind the application's back: no roster_version, so the stored page stays.
    Letter.objects.filter(pk=letter.pk).update(title="Protect civic space now")
    assert b"Protect civic space now" in staff_client.get(OUTPUTS["letter page"]).content


def test_editing_the_letter_shows_at_once(client, letter):
    client.get(OUTPUTS["letter page"])
    letter.title = "A better title"
    letter.save()
    assert b"A better title" in client.get(OUTPUTS["letter page"]).content


def test_a_new_delivery_shows_on_the_letter_page_at_once(client, letter):
    signature_row(letter, make_individual("Anna Early"))
    client.get(OUTPUTS["letter page"])
    letter.deliveries.create(number=1, as_of=dt.date(2023, 9, 21), recipient="The Minister", pdf=b"%PDF-")
    assert b"The Minister" in client.get(OUTPUTS["letter page"]).content


def test_the_sign_link_goes_when_the_letter_closes_by_the_clock(client, letter):
    letter.closes_at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    letter.save()
    assert b"/letters/civic-space/sign/" in client.get(OUTPUTS["letter page"]).content
    # The clock passes the closing time without any write to the database.
    Letter.objects.filter(pk=letter.pk).update(closes_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    assert b"/letters/civic-space/sign/" not in client.get(OUTPUTS["letter page"]).content


def test_the_warm_letter_page_costs_one_query_whatever_the_list_length(
    client, letter, django_assert_num_queries
):
    for n in range(300):
        signature_row(letter, make_individual(f"Person {n}"))
        if n % 5 == 0:
            signature_row(letter, make_organization(f"Organization {n}"))
    for url in OUTPUTS.values():
        if url != OUTPUTS["PDF"]:
            client.get(url)
    with django_assert_num_queries(1):  # the letter's row
        response = client.get(OUTPUTS["letter page"])
    assert b"Person 299" in response.content
    with django_assert_num_queries(1):
        assert client.get(OUTPUTS["CSV"]).status_code == 200
    with django_assert_num_queries(1):
        assert client.get(OUTPUTS["JSON"]).status_code == 200
    with django_assert_num_queries(1):
        assert client.get(OUTPUTS["print page"]).status_code == 200


def test_the_stored_pages_are_bounded(client, letter, settings):
    settings.PAGE_CACHE_MAX_FILES = 6
    signature_row(letter, make_individual("Anna Early", title="Professor"))
    for day in range(1, 21):
        client.get(f"{OUTPUTS['print page']}?as_of=2023-09-{day:02}")
    assert pagecache.stored_count() <= 6


def test_the_stored_pages_are_bounded_in_bytes_the_oldest_going_first(client, letter, settings):
    # 60 print pages of one long letter used to add 107 MB: the bound counted files only.
    settings.PAGE_CACHE_MAX_BYTES = 40_000
    for number in range(40):
        signature_row(letter, make_individual(f"Signer Number{number}", title="Professor of Comparative Law"))
    first = f"{OUTPUTS['print page']}?as_of=2023-09-01"
    client.get(first)
    (oldest,) = [entry.path for entry in pagecache._entries()]
    one_page = os.path.getsize(oldest)
    assert 4_000 < one_page < 40_000 // 3
    for day in range(2, 21):
        client.get(f"{OUTPUTS['print page']}?as_of=2023-09-{day:02}")
    assert pagecache.stored_bytes() <= 40_000
    assert pagecache.stored_count() >= 3
    assert not os.path.exists(oldest)
    # the newest pages are the ones kept
    assert client.get(first).status_code == 200
    assert pagecache.stored_bytes() <= 40_000


def test_a_body_larger_than_the_byte_bound_is_still_sent(client, letter, settings):
    settings.PAGE_CACHE_MAX_BYTES = 10
    signature_row(letter, make_individual("Anna Early"))
    response = client.get(OUTPUTS["print page"])
    assert response.status_code == 200
    assert b"Anna Early" in body(response)


def test_drafts_are_never_stored(staff_client, client):
    make_letter(slug="draft", status=Letter.Status.DRAFT, title="Secret draft")
    assert staff_client.get("/letters/draft/").status_code == 200
    assert pagecache.stored_count() == 0
    client.logout()
    assert client.get("/letters/draft/").status_code == 404


def test_visitors_who_miss_at_the_same_moment_share_one_render(rf):
    from concurrent.futures import ThreadPoolExecutor

    from django.contrib.auth.models import AnonymousUser

    renders = []

    def render():
        renders.append(1)
        time.sleep(0.2)
        return [b"<p>the page</p>"]

    def visit(_):
        request = rf.get("/letters/civic-space/")
        request.user = AnonymousUser()
        response = pagecache.respond(request, "1/" + "k" * 40, render, content_type="text/html")
        return response.content

    with ThreadPoolExecutor(max_workers=8) as pool:
        bodies = list(pool.map(visit, range(8)))
    assert bodies == [b"<p>the page</p>"] * 8
    assert len(renders) == 1
    assert pagecache.stored_count() == 1


def test_a_letters_stored_pages_can_be_forgotten_at_once(client, letter):
    other = make_letter(slug="other")
    for url in ["/letters/civic-space/", "/letters/civic-space/print/", "/letters/other/"]:
        client.get(url)
    assert pagecache.stored_count() == 3
    pagecache.forget_letter(letter.pk)
    assert pagecache.stored_count() == 1
    assert other.pk != letter.pk


def test_a_page_stored_more_than_a_day_ago_goes_at_the_next_store(client, letter):
    import os

    client.get("/letters/civic-space/")
    (old,) = [entry.path for entry in pagecache._entries()]
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    client.get("/letters/civic-space/print/")
    assert not os.path.exists(old)
    assert pagecache.stored_count() == 1


GZIPPED = {name: url for name, url in OUTPUTS.items() if name not in {"PDF", "Word"}}


@pytest.mark.parametrize("url", GZIPPED.values(), ids=GZIPPED.keys())
def test_a_browser_that_accepts_gzip_gets_the_same_body_compressed(client, letter, url):
    for number in range(200):
        signature_row(letter, make_individual(f"Signer Number{number}", title="Professor of Comparative Law"))
    plain = client.get(url)
    plain_body = body(plain)
    compressed = client.get(url, headers={"accept-encoding": "gzip, deflate, br"})
    compressed_body = body(compressed)
    assert "Content-Encoding" not in plain.headers
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed_body) == plain_body
    assert len(compressed_body) < len(plain_body) / 2
    for response in (plain, compressed):
        assert "Accept-Encoding" in response.headers["Vary"]
    # Each body has its own ETag, and each revalidates to a 304.
    assert compressed.headers["ETag"] != plain.headers["ETag"]
    again = client.get(url, headers={"accept-encoding": "gzip", "if-none-match": compressed.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["Content-Encoding"] == "gzip"


def test_the_compressed_body_is_made_once_per_state_of_the_list(client, letter):
    signature_row(letter, make_individual("Anna Early"))
    url = OUTPUTS["print page"]
    client.get(url)
    stored = pagecache.stored_count()
    client.get(url, headers={"accept-encoding": "gzip"})
    assert pagecache.stored_count() == stored + 1
    client.get(url, headers={"accept-encoding": "gzip"})
    assert pagecache.stored_count() == stored + 1
    signature_row(letter, make_individual("Zora Newcomer"), signed_at=dt.datetime.now(dt.UTC))
    newest = client.get(url, headers={"accept-encoding": "gzip"})
    assert b"Zora Newcomer" in gzip.decompress(body(newest))


STORED_PAGES = [
    "/letters/civic-space/",
    "/letters/civic-space/?lang=fr",
    "/letters/civic-space/?q=anna",
    "/letters/civic-space/print/?paper=letter",
    "/letters/civic-space/signatories.csv",
    "/letters/civic-space/signatories.json",
    "/letters/civic-space/embed/",
    "/letters/civic-space/?as_of=2999-01-01",
    "/letters/no-such-letter/",
]


@pytest.mark.parametrize("url", STORED_PAGES)
def test_visitors_without_a_session_get_what_the_whole_stack_would_send(client, letter, url):
    # Issue #14: a viral letter's readers are answered before the session and
    # login middlewares; nothing they receive may differ from the full stack's.
    signature_row(letter, make_individual("Anna Early"))
    with mock.patch.object(SessionMiddleware, "process_request", autospec=True) as sessions:
        fast = client.get(url, headers={"accept-encoding": "gzip"})
        fast_body = body(fast)
    assert sessions.call_count == 0
    pagecache.clear()  # the full stack renders its own body, not the one just stored
    client.cookies["sessionid"] = "not-a-session"
    full = client.get(url, headers={"accept-encoding": "gzip"})
    assert full.status_code == fast.status_code
    assert body(full) == fast_body
    ignored = {"Date", "Set-Cookie"}
    assert {k: v for k, v in fast.headers.items() if k not in ignored} == {
        k: v for k, v in full.headers.items() if k not in ignored
    }


def test_a_signed_in_organizer_is_never_answered_before_the_session(staff_client, letter):
    signature_row(letter, make_individual("Anna Early"))
    response = staff_client.get("/letters/civic-space/")
    assert "private" in response.headers["Cache-Control"]
    assert pagecache.stored_count() == 0


def test_the_letter_a_page_reads_is_the_letter_the_orm_reads(rf, letter):
    # get_letter_for_visitor turns its one compiled query's row into the Letter itself.
    from django.contrib.auth.models import AnonymousUser

    from letters.views.public import get_letter_for_visitor

    request = rf.get("/letters/civic-space/")
    request.user = AnonymousUser()
    read = get_letter_for_visitor(request, "civic-space")
    expected = Letter.objects.get(pk=letter.pk)
    for field in Letter._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert read.created_at.tzinfo is not None
    assert (read.newest_delivery, read.has_translations) == (None, False)


def test_a_word_document_is_built_once_per_state_of_the_list(client, letter, monkeypatch):
    # Issue #14: each download built the whole document again (seconds for 10,000 names).
    from letters.outputs import word

    built = []
    original = word.letter_docx
    monkeypatch.setattr(word, "letter_docx", lambda *args: built.append(1) or original(*args))
    signature_row(letter, make_individual("Anna Early"))
    url = OUTPUTS["Word"]
    first = client.get(url, headers={"accept-encoding": "gzip"})
    first_body = body(first)
    assert "Content-Encoding" not in first.headers  # a .docx is compressed already
    assert first.headers["Content-Disposition"].startswith('attachment; filename="civic-space')
    assert body(client.get(url)) == first_body
    assert len(built) == 1


def test_the_anonymous_chain_keeps_only_middlewares_without_view_hooks(settings):
    # StoredPagesMiddleware calls the view itself: a middleware with a
    # process_view hook added later would be skipped for anonymous readers.
    from django.utils.module_loading import import_string

    names = list(settings.MIDDLEWARE)
    later = names[names.index("letters.outputs.middleware.StoredPagesMiddleware") + 1 :]
    kept = [import_string(name) for name in later if name not in middleware.SKIPPED_FOR_ANONYMOUS]
    assert kept
    for each in kept:
        assert not hasattr(each, "process_view"), each
        assert not hasattr(each, "process_template_response"), each


def test_a_host_that_only_reads_still_drops_files_of_days_gone_within_a_day(
    client, letter, settings, tmp_path, monkeypatch
):
    # Host B stored the CSV naming Jane; she erased her entry through host A, whose files went at once.
    # Host B never stores again (its next visitors come for pages it has): its own files must still go.
    settings.PAGE_CACHE_DIR = tmp_path / "host-b"
    jane = signature_row(
        letter, make_individual("Jane Erased"), signed_at=dt.datetime(2023, 9, 1, tzinfo=dt.UTC)
    )
    assert b"Jane Erased" in b"".join(client.get("/letters/civic-space/signatories.csv").streaming_content)
    settings.PAGE_CACHE_DIR = tmp_path / "host-a"
    lifecycle.signature_erase(signature=jane)
    settings.PAGE_CACHE_DIR = tmp_path / "host-b"
    client.get("/letters/civic-space/")  # the new state, stored on host B
    two_days_ago = time.time() - 2 * 86400
    for path in (tmp_path / "host-b").rglob("*"):
        if path.is_file():
            os.utime(path, (two_days_ago, two_days_ago))
    # Two days later, host B's visitors only read what it has stored. (Its last
    # cull two days before now: not at monotonic 0, which may be an hour ago on
    # a machine that booted recently.)
    monkeypatch.setattr(pagecache, "_last_cull", time.monotonic() - 2 * 86400)
    client.get("/letters/civic-space/")

    left = [p for p in (tmp_path / "host-b").rglob("*") if p.is_file() and b"Jane Erased" in p.read_bytes()]
    assert left == []


def test_a_fresh_process_culls_on_its_first_stored_page_even_on_a_machine_booted_minutes_ago(
    client, letter, settings, tmp_path, monkeypatch
):
    # time.monotonic() counts from boot: a server started on a machine up for
    # ten minutes did not cull before its first hour (`_last_cull = 0.0`).
    settings.PAGE_CACHE_DIR = tmp_path
    client.get("/letters/civic-space/")
    two_days_ago = time.time() - 2 * 86400
    for path in tmp_path.rglob("*"):
        if path.is_file():
            os.utime(path, (two_days_ago, two_days_ago))
    monkeypatch.setattr(pagecache, "_last_cull", None)
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: 600.0)
    client.get("/letters/civic-space/?as_of=2023-09-02")

    assert all(p.stat().st_mtime > two_days_ago for p in tmp_path.rglob("*") if p.is_file())


def test_a_deployed_change_to_how_the_letter_text_renders_renews_the_stored_pages(client, letter):
    # Footnotes came to be numbered in the order the text cites them, but pages stored before
    # kept the old numbers until the list or the letter changed: the page key ignored
    # letters/markdown.py (the PDF's did not).
    from pathlib import Path

    before = client.get("/letters/civic-space/")["ETag"]
    markdown = Path(pagecache.settings.BASE_DIR, "letters", "markdown.py")
    real_read_bytes = Path.read_bytes

    def read_bytes(path):
        return real_read_bytes(path) + (b"# a new version" if path == markdown else b"")

    pagecache.rendering_version.cache_clear()
    try:
        with mock.patch.object(Path, "read_bytes", read_bytes):
            assert client.get("/letters/civic-space/")["ETag"] != before
    finally:
        pagecache.rendering_version.cache_clear()


@pytest.mark.django_db
def test_a_strangers_host_header_never_reaches_a_stored_page(client, letter, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "evil.example"]
    first = client.get(f"/letters/{letter.slug}/", HTTP_HOST="evil.example")
    second = client.get(f"/letters/{letter.slug}/")
    assert first.status_code == second.status_code == 200
    for response in (first, second):
        body = response.content.decode()
        assert "evil.example" not in body
        assert f'hreflang="x-default" href="{settings.SITE_URL}' in body


def _stored_pdfs(*keys: str) -> list[str]:
    """Which of `keys` the PDF cache still holds, whatever its backend (memory, database, Redis)."""
    return [key for key in keys if pagecache.pdf_cache().get(key) is not None]


def test_erasing_an_entry_never_listed_keeps_the_letters_stored_pages_and_pdfs(
    client, letter, django_capture_on_commit_callbacks
):
    # Anyone could sign with a throwaway address and erase it: every stored page and PDF went.
    signature_row(letter, make_individual("Listed Person"), signed_at=dt.datetime(2023, 9, 1, tzinfo=dt.UTC))
    for url in (
        "/letters/civic-space/",
        "/letters/civic-space/print/",
        "/letters/civic-space/signatories.csv",
    ):
        assert client.get(url).status_code == 200
    stored = pagecache.stored_count()
    assert stored >= 3
    pdf, queued = (
        f"letter-pdf:{letter.pk}:v:en:2023-09-01:a4:s",
        f"letter-pdf:{letter.pk}:v:en:2023-09-02:a4:s:queued",
    )
    pagecache.pdf_cache_set(pdf, b"%PDF", 60)
    pagecache.pdf_cache_add(queued, True, 60)
    stranger = signature_row(letter, make_individual("Never Listed"), status="pending", source="form")

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.signature_erase(signature=stranger)

    assert Signature.objects.get(pk=stranger.pk).erased_at is not None
    assert pagecache.stored_count() == stored
    assert _stored_pdfs(pdf, queued) == [pdf, queued]  # the PDF and the "queued" flag stay
    assert client.get("/letters/civic-space/").status_code == 200
    assert pagecache.stored_count() == stored  # served from what was stored: nothing rendered again


def test_erasing_an_entry_once_listed_forgets_every_stored_page_and_pdf(
    client, letter, django_capture_on_commit_callbacks
):
    signature_row(letter, make_individual("Jane Listed"), signed_at=dt.datetime(2023, 9, 1, tzinfo=dt.UTC))
    withdrawn = signature_row(
        letter,
        make_individual("Once Listed"),
        signed_at=dt.datetime(2023, 9, 1, tzinfo=dt.UTC),
        withdrawn_at=dt.datetime(2023, 9, 3, tzinfo=dt.UTC),
    )
    client.get("/letters/civic-space/?as_of=2023-09-02")
    pdf = f"letter-pdf:{letter.pk}:v:en:2023-09-02:a4:s"
    pagecache.pdf_cache_set(pdf, b"%PDF", 60)
    assert pagecache.stored_count() >= 1
    assert _stored_pdfs(pdf) == [pdf]

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.signature_erase(signature=withdrawn)

    assert pagecache.stored_count() == 0
    assert _stored_pdfs(pdf) == []


def test_the_database_pdf_cache_is_bounded_in_bytes_the_oldest_going_first(settings):
    # 500 PDFs of a long letter (PDF_CACHE_MAX_ENTRIES) were close to a gigabyte in the database.
    from django.core.cache import caches
    from django.core.management import call_command

    settings.CACHES = {
        **settings.CACHES,
        "pdfs": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "test_pdf_cache"},
    }
    settings.PDF_CACHE_MAX_BYTES = 60_000
    call_command("createcachetable", verbosity=0)
    assert type(caches["pdfs"]).__name__ == "DatabaseCache"
    pdf = os.urandom(10_000)  # stored as 13,000 characters or so
    for number in range(10):
        pagecache.pdf_cache_set(f"letter-pdf:1:{number}", pdf, 3600 + number)
    kept = [number for number in range(10) if pagecache.pdf_cache_get(f"letter-pdf:1:{number}") is not None]
    assert kept == [6, 7, 8, 9]
    # The newest stays even when it alone is past the bound.
    settings.PDF_CACHE_MAX_BYTES = 10
    pagecache.pdf_cache_set("letter-pdf:1:big", pdf, 7200)
    assert pagecache.pdf_cache_get("letter-pdf:1:big") == pdf
    assert pagecache.pdf_cache_get("letter-pdf:1:9") is None

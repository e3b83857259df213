"""
A long list's PDF while the list keeps changing: once a PDF of the day has
been rendered, a visitor gets the newest one at once, stamped with the moment
of its list and kept by no cache, while a worker renders the current one
(queued once); never the wait page.
"""

import subprocess

import pytest
from django.core.management import call_command
from django.utils import translation

from letters.languages import zone_words
from letters.outputs import pdf as exports
from letters.outputs.cache import pdf_cache
from letters.outputs.printing import main_version
from letters.rosters import Roster
from tests.factories import make_individual, signature_row

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PDF = "/letters/civic-space/letter.pdf"


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def long_list(letter, monkeypatch):
    """A list too long to render within a request (so said), and its PDF of today rendered once."""
    monkeypatch.setattr(exports, "PDF_INLINE_MAX_ENTRIES", 2)
    for name in ("Ana Alvarez", "Bea Brown", "Cem Celik"):
        signature_row(letter, make_individual(name))
    return letter


@pytest.fixture
def queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path="letters.outputs.pdf.render_pdf_later")


def test_a_visitor_gets_the_newest_pdf_at_once_stamped_and_private_while_the_current_one_renders(
    client, long_list, settings, tmp_path
):
    first = client.get(PDF)  # the test settings run tasks at once: rendered and stored
    assert first.status_code == 200
    assert "public" in first["Cache-Control"]
    assert "List as it stood on" in pdf_text(first.content, tmp_path)

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    renders = DBTaskResult.objects.filter(task_path="letters.outputs.pdf.render_pdf_later")
    signature_row(long_list, make_individual("Dara Dlamini"))

    older = client.get(PDF)
    again = client.get(PDF)

    assert (older.status_code, again.status_code) == (200, 200)
    assert older.content == first.content == again.content  # no wait page: the newest there is
    assert "no-store" in older["Cache-Control"] and "private" in older["Cache-Control"]
    assert "public" not in older["Cache-Control"]
    assert not older.has_header("ETag")  # never under the current list's ETag
    assert older.has_header("Last-Modified")
    assert "-list-of-" in older["Content-Disposition"]
    assert "Dara Dlamini" not in pdf_text(older.content, tmp_path)
    assert renders.count() == 1  # the current list queued once

    call_command("task_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    current = client.get(PDF)
    assert current.status_code == 200
    assert "public" in current["Cache-Control"] and current.has_header("ETag")
    text = pdf_text(current.content, tmp_path)
    assert "Dara Dlamini" in text
    assert "List as it stood on" in text


def test_the_stamp_is_the_lists_moment_in_the_letters_zone(long_list, tmp_path):
    roster = Roster(long_list)
    pdf = exports.pdf_of_state(roster, "a4", roster.read_now())
    moment = roster.list_moment.astimezone(long_list.tzinfo)
    text = " ".join(pdf_text(pdf, tmp_path).split())
    # In the letter's zone, named as everywhere else ("New York time (EST)").
    assert f"{moment:%H:%M} {zone_words(long_list.tzinfo, moment)}" in text


def test_a_pdf_of_one_state_is_the_same_bytes_each_time_it_is_rendered(long_list):
    roster = Roster(long_list)
    state = roster.read_now()
    first = exports.pdf_of_state(roster, "a4", state)
    with translation.override(main_version(long_list).language):
        pdf_cache().delete(exports.pdf_key(long_list.pk, roster.as_of, "a4", state))  # culled, say

    assert exports.pdf_of_state(Roster(long_list), "a4", state) == first


def test_without_any_pdf_of_the_day_the_visitor_waits_as_before(client, long_list, queue):
    response = client.get(PDF)
    assert response.status_code == 503
    assert queue.count() == 1


def test_staff_get_the_current_list_never_an_older_pdf(client, long_list, staff_client, settings, queue):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    first = client.get(PDF)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    signature_row(long_list, make_individual("Dara Dlamini"))
    response = staff_client.get(PDF)
    assert response.status_code == 503  # the wait page: staff see the live list or nothing
    assert response.content != first.content

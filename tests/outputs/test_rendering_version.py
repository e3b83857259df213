"""
Every stored body (page, PDF, Word) is keyed by one digest of the deployed
rendering code and assets (letters/outputs/cache.py, `rendering_version`):
a deployed change to how anything prints renews them, with no list to keep.
"""

import datetime as dt
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings

from letters.outputs import cache
from letters.rosters import Roster

DAY = dt.date(2023, 9, 21)


@pytest.fixture
def changed():
    """Pretend a file was deployed anew: its bytes read differently from now on."""
    real_read_bytes = Path.read_bytes
    changed: set[Path] = set()

    def read_bytes(path):
        return real_read_bytes(path) + (b"\n# deployed anew" if path in changed else b"")

    cache.rendering_version.cache_clear()
    with mock.patch.object(Path, "read_bytes", read_bytes):
        yield changed
    cache.rendering_version.cache_clear()


def _keys(letter) -> tuple[str, str, str]:
    roster = Roster(letter, DAY)
    pdf = cache.pdf_key(letter.pk, DAY, "a4", roster.state())
    return pdf, cache.page_key(roster, "docx"), cache.page_key(roster, "page")


@pytest.mark.parametrize(
    "source",
    [
        "letters/templatetags/rosters.py",  # how each entry prints (the PDF key ignored it)
        "letters/rosters.py",  # DATE_FORMATS: how the days print (the PDF key ignored it)
        "letters/markdown.py",
        "letters/outputs/word.py",
        "templates/letters/print.html",
        "static/css/print.css",
        "locale/ko/LC_MESSAGES/django.po",
    ],
)
def test_a_deployed_change_to_what_renders_a_body_changes_every_key(letter, changed, source):
    path = Path(settings.BASE_DIR, source)
    assert path.is_file()
    before = _keys(letter)
    cache.rendering_version.cache_clear()
    changed.add(path)

    after = _keys(letter)
    assert [a != b for a, b in zip(before, after, strict=True)] == [True, True, True]


def test_the_digest_is_computed_once_at_start_up(letter, changed):
    cache.rendering_version()
    changed.add(Path(settings.BASE_DIR, "letters/rosters.py"))
    # Without a restart nothing changes: the files were read once.
    assert cache.rendering_version() == cache.rendering_version()
    assert cache.rendering_version.cache_info().misses == 1

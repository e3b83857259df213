import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.cache import cache, caches

from letters.outputs import cache as pagecache
from letters.signing import mailcaps, ratelimits
from tests.factories import make_letter


def pytest_configure(config):
    """
    The translation catalogues (locale/*.po) compiled before any page is
    rendered: `make` does it, and so does a bare `pytest` on a fresh clone.
    """
    for po in Path(__file__).resolve().parent.parent.glob("locale/*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            if shutil.which("msgfmt") is None:
                raise pytest.UsageError("msgfmt is missing: install gettext (make sysdeps)")
            subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)


@pytest.fixture
def letter(db):
    """An open letter whose days are New York days (UTC-4 in September)."""
    return make_letter(slug="civic-space", title="Protect civic space")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counts, PDFs and rendered pages: every test starts with none."""
    cache.clear()
    caches["pdfs"].clear()
    ratelimits.clear()
    mailcaps.clear()
    pagecache.clear()


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST, then run what waits for the commit (the e-mail task) as a real request would."""

    def post(url, data, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, **extra)

    return post


# Who uses the staff panel: made here once, for every test.


@pytest.fixture
def staff(django_user_model):
    """An organizer: a superuser, who may do everything in /admin/."""
    return django_user_model.objects.create_superuser("organizer", "organizer@example.org", "pw")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def moderator(django_user_model):
    """A staff member of the Moderator group: vets signatures, edits no letter, deletes nothing."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("mod", "mod@example.org", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Moderator"))
    return user


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def queue(settings):
    """Tasks wait in the database queue, as in production (the tests otherwise run them at once)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects

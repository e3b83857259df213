import pytest
from django.core.cache import cache

from .factories import make_letter


@pytest.fixture
def letter(db):
    """An open letter whose days are New York days (UTC-4 in September)."""
    return make_letter(slug="civic-space", title="Protect civic space")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counts live in the cache: every test starts with none."""
    cache.clear()


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST, then run what waits for the commit (the e-mail task) as a real request would."""

    def post(url, data, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, **extra)

    return post

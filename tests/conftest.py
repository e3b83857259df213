import pytest

from .factories import make_letter


@pytest.fixture
def letter(db):
    """An open letter whose days are New York days (UTC-4 in September)."""
    return make_letter(slug="civic-space", title="Protect civic space")

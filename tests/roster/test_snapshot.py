"""
A page's count and the names it lists come from one snapshot of the database:
a signer approved while the page is being read is on both or on neither,
never "3 individuals" above 4 names (and that body stored under its ETag).
"""

import re
import threading
import time

import pytest
from django.db import OperationalError, connection

from letters.rosters import Roster
from tests.factories import make_individual, make_letter, signature_row

pytestmark = [pytest.mark.django_db(transaction=True)]


def approve_in_another_connection(letter, name: str) -> threading.Thread:
    """
    A signature approved by another connection, committed at once where the
    database lets it. The test database is SQLite in memory with a shared
    cache, where a writer meets a reader's open transaction as "table is
    locked" (the file-based database lets it write beside the reader): it
    tries again until the reader is done. On PostgreSQL it commits at once.
    """

    def approve() -> None:
        try:
            for _ in range(500):
                try:
                    signature_row(letter, make_individual(name))
                    return
                except OperationalError as error:
                    if "locked" not in str(error):
                        raise
                    time.sleep(0.01)
        finally:
            connection.close()

    thread = threading.Thread(target=approve)
    thread.start()
    return thread


@pytest.fixture
def approved_between_the_count_and_the_names(monkeypatch):
    """The first read of a section's names waits (up to 1 s) for a signature approved meanwhile."""
    state = {}
    rows = Roster._rows

    def _rows(self, section_type):
        if "thread" not in state:
            state["thread"] = approve_in_another_connection(self.letter, "Late Signer")
            state["thread"].join(timeout=1)
        return rows(self, section_type)

    monkeypatch.setattr(Roster, "_rows", _rows)
    yield state
    state["thread"].join(timeout=10)


def test_the_letter_page_counts_the_names_it_lists_while_one_is_approved(
    client, approved_between_the_count_and_the_names
):
    letter = make_letter(slug="civic-space", accepts_organizations=False)
    for n in range(3):
        signature_row(letter, make_individual(f"Early Signer {n}"))

    body = client.get("/letters/civic-space/").content.decode()

    approved_between_the_count_and_the_names["thread"].join(timeout=10)
    names = len(re.findall(r"(?:Early|Late) Signer", body))
    assert names in (3, 4)
    assert f"{names} individuals" in body

    # The next visitor sees the new name, counted.
    body = client.get("/letters/civic-space/").content.decode()
    assert "Late Signer" in body and "4 individuals" in body


def test_the_embedded_box_counts_the_names_it_shows_while_one_is_approved(client, monkeypatch):
    letter = make_letter(slug="civic-space", accepts_organizations=False)
    for n in range(3):
        signature_row(letter, make_individual(f"Early Signer {n}"))
    state = {}
    from letters.rosters import RosterPage

    counts = RosterPage.counts.func

    def counted(self):
        result = counts(self)
        state["thread"] = approve_in_another_connection(self.letter, "Late Signer")
        state["thread"].join(timeout=1)
        return result

    monkeypatch.setattr(RosterPage, "counts", property(counted))
    body = client.get("/letters/civic-space/embed/").content.decode()
    state["thread"].join(timeout=10)
    # The latest five names shown, the count over them: the new one in both or in neither.
    assert ("Late Signer" in body) == ("4 signatories" in body)
    assert ("Late Signer" in body) != ("3 signatories" in body)

"""Print and PDF: a section heading never sits alone at the foot of a page; the PDF is tagged (PDF/UA)."""

import re
import subprocess

import pytest

from letters.outputs import pdf as exports
from letters.rosters import Roster
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def pages_of(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True)
    return text.stdout.split("\f")


def page_with(pages: list[str], text: str) -> int:
    return next(n for n, page in enumerate(pages) if text in page)


@pytest.mark.parametrize("title", ["Professor of International Law, a university with a long name"])
def test_the_organizations_heading_stays_with_the_first_organization(tmp_path, title):
    letter = make_letter(slug="long-list")
    signature_row(
        letter,
        make_organization("Aardvark Alliance for the Defence of Civic Space and Association", acronym="AA"),
    )
    people = [make_individual(f"Person {n:03d}", title=title) for n in range(160)]

    def layout(n: int) -> tuple[int, int]:
        """Pages of the Organizations heading and of the first organization, with n individuals signed."""
        letter.signatures.filter(individual__isnull=False).delete()
        for person in people[:n]:
            signature_row(letter, person)
        pages = pages_of(exports.render_pdf(Roster(letter), "a4"), tmp_path)
        return page_with(pages, "ORGANIZATIONS"), page_with(pages, "Aardvark Alliance")

    # The smallest list that pushes the heading to a later page: one name fewer
    # leaves it as low on its page as it can be.
    low, high = 1, len(people)
    first_page = layout(low)[0]
    assert layout(high)[0] > first_page
    while high - low > 1:
        middle = (low + high) // 2
        if layout(middle)[0] > first_page:
            high = middle
        else:
            low = middle
    for n in (low, high):
        heading, first = layout(n)
        assert heading == first, f"with {n} individuals the heading is on page {heading + 1}, alone"


def test_the_pdf_is_tagged_for_screen_readers(letter, tmp_path):
    signature_row(letter, make_individual("Lee Yanghee"))
    path = tmp_path / "letter.pdf"
    path.write_bytes(exports.render_pdf(Roster(letter), "a4"))

    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout

    assert "Tagged:          yes" in info
    assert re.search(r"PDF version:\s+1\.7", info)

"""
Renders the demo letter's PDF to PNG pages in test-artifacts/ (git-ignored) so
that a person can look at what a journalist downloads.
"""

import io
import subprocess

import pytest
from django.conf import settings
from django.core.management import call_command
from PIL import Image
from pypdf import PdfReader

from letters.models import Letter
from letters.outputs import pdf as exports
from letters.rosters import Roster

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ARTIFACTS = settings.BASE_DIR / "test-artifacts"
DPI = 100  # enough to see accents; at 60 a stacked ọ̀ loses its grave


@pytest.mark.parametrize(("paper", "size_mm"), [("a4", (210, 297)), ("letter", (215.9, 279.4))])
def test_it_renders_the_demo_letter_to_png_pages(paper, size_mm, settings, tmp_path):
    settings.VAR_DIR = tmp_path  # load_demo keeps the staff password there
    call_command("load_demo", stdout=io.StringIO())
    roster = Roster(Letter.objects.get(slug="veltrana-civic-space"))
    pdf = exports.render_pdf(roster, paper)
    ARTIFACTS.mkdir(exist_ok=True)
    pdf_path = ARTIFACTS / f"demo-letter-{paper}.pdf"
    pdf_path.write_bytes(pdf)
    for old in ARTIFACTS.glob(f"demo-letter-{paper}-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-png", str(pdf_path), str(ARTIFACTS / f"demo-letter-{paper}")],
        check=True,
    )
    pages = sorted(ARTIFACTS.glob(f"demo-letter-{paper}-*.png"))
    assert len(pages) == len(PdfReader(pdf_path).pages) >= 2
    width, height = Image.open(pages[0]).size
    assert (width, height) == pytest.approx([round(mm / 25.4 * DPI) for mm in size_mm], abs=1)

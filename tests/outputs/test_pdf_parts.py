"""
A long list laid out by Typst in parts and joined into one PDF
(letters/outputs/typst.py in_parts, letters/outputs/pdfparts.py): no child
holds more than a part, and the reader gets what one piece would have given
them, page by page, with one tag tree, one outline and the same bytes each time.
"""

import datetime as dt
import io
import itertools
import re
import subprocess
import unicodedata

import pikepdf
import pytest

from letters.outputs import pdf as exports
from letters.outputs import typst as typst_pdf
from letters.rosters import Roster
from tests.factories import make_organization, signature_row
from tests.outputs.test_pdf_typst import another_thread_running, sign_many

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

PART = 70  # entries a part: 300 of them make five parts


@pytest.fixture
def long_letter(letter, settings):
    settings.PDF_ENGINE = "typst"
    sign_many(letter, 300)
    for number in range(6):  # a second section, begun in a later part
        signature_row(letter, make_organization(f"Coalition Number {number}", acronym=f"CN{number}"))
    return letter


@pytest.fixture
def laid_out(monkeypatch):
    """Each layout's entries, as Typst got them."""
    sizes = []
    lay_out = typst_pdf.lay_out

    def counted(tree, *args, **kwargs):
        sizes.append(typst_pdf.count_entries(tree))
        return lay_out(tree, *args, **kwargs)

    monkeypatch.setattr(typst_pdf, "lay_out", counted)
    return sizes


def render(letter, part_entries: int, monkeypatch) -> bytes:
    monkeypatch.setattr(typst_pdf, "PART_ENTRIES", part_entries)
    return exports.render_pdf(Roster(letter, dt.date(2023, 9, 21)), "a4")


def pages_text(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    command = ["pdftotext", "-layout", str(path), "-"]
    text = subprocess.run(command, capture_output=True, text=True, check=True)
    return unicodedata.normalize("NFC", text.stdout).split("\f")[:-1]


def tag_tree_errors(pdf: bytes) -> list[str]:
    """
    What a screen reader would trip on: marked content on a page that the
    parent tree does not lead back to its element, an element on a page not
    in the file, two pages sharing a key, a heading that skips a level.
    """
    errors = []
    document = pikepdf.open(io.BytesIO(pdf))
    pages = {page.objgen: page for page in document.pages}
    tree = document.Root.StructTreeRoot
    numbers = tree.ParentTree.Nums
    parents = {int(numbers[i]): numbers[i + 1] for i in range(0, len(numbers), 2)}
    keys = [int(page.obj.StructParents) for page in document.pages]
    if len(set(keys)) != len(keys):
        errors.append("two pages share a parent-tree key")
    if max(keys) >= int(tree.ParentTreeNextKey):
        errors.append("ParentTreeNextKey is not past every key")
    marked = {}  # (page, mcid) -> element
    headings = []

    def visit(element):
        if "/Pg" in element and element.Pg.objgen not in pages:
            errors.append(f"{element.S} on a page not in the file")
        if str(element.S)[2:].isdigit() and str(element.S).startswith("/H"):
            headings.append(int(str(element.S)[2:]))
        page = element.Pg.objgen if "/Pg" in element else None
        kids = element.get("/K")
        for kid in kids if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]:
            if isinstance(kid, int):
                marked[(page, kid)] = element
            elif kid.get("/Type") == "/MCR":
                marked[(kid.Pg.objgen, int(kid.MCID))] = element
            elif kid.get("/Type") != "/OBJR":
                if kid.P.objgen != element.objgen:
                    errors.append(f"{kid.S} does not name its parent")
                visit(kid)

    for top in tree.K:
        visit(top)
    for page in document.pages:
        ids = []
        for operands, operator in pikepdf.parse_content_stream(page):
            properties = operands[1] if str(operator) == "BDC" else None
            if isinstance(properties, pikepdf.Dictionary) and "/MCID" in properties:
                ids.append(int(properties.MCID))
        row = parents.get(int(page.obj.StructParents))
        for mcid in ids:
            element = marked.get((page.objgen, mcid))
            if element is None:
                errors.append(f"marked content {mcid} on page {page.index + 1} belongs to no element")
            elif row is None or mcid >= len(row) or row[mcid].objgen != element.objgen:
                errors.append(f"the parent tree does not lead {mcid} on page {page.index + 1} back")
    if headings[:1] != [1] or any(b > a + 1 for a, b in itertools.pairwise(headings)):
        errors.append(f"headings skip a level: {headings}")
    return errors


def outline(pdf: bytes) -> list[tuple[int, str, int]]:
    document = pikepdf.open(io.BytesIO(pdf))
    index = {page.objgen: number for number, page in enumerate(document.pages)}
    items = []

    def walk(children, depth):
        for item in children:
            items.append((depth, item.title, index[item.destination[0].objgen]))
            walk(item.children, depth + 1)

    with document.open_outline() as root:
        walk(root.root, 0)
    return items


def test_a_long_list_in_parts_prints_every_page_as_one_piece_would(
    long_letter, tmp_path, monkeypatch, laid_out
):
    one_piece = render(long_letter, 100_000, monkeypatch)
    assert laid_out == [306]
    laid_out.clear()
    in_parts = render(long_letter, PART, monkeypatch)
    assert len(laid_out) >= 7  # parts measured, then laid out
    assert max(laid_out) <= PART  # no child holds more than a part
    expected = pages_text(one_piece, tmp_path)
    assert len(expected) > 6
    assert pages_text(in_parts, tmp_path) == expected  # the same entries on the same pages
    total = len(expected)
    for number, page in enumerate(pages_text(in_parts, tmp_path), start=1):
        assert re.search(rf"\b{number} ?/ ?{total}\s*$", page)  # every footer counts the whole PDF
    assert "Signer Number00299" in expected[-2] + expected[-1]
    assert "Coalition Number 5" in expected[-1]


def test_the_joined_pdf_has_one_tag_tree_and_one_outline(long_letter, monkeypatch):
    one_piece = render(long_letter, 100_000, monkeypatch)
    in_parts = render(long_letter, PART, monkeypatch)
    assert tag_tree_errors(one_piece) == []  # the check accepts Typst's own PDF
    assert tag_tree_errors(in_parts) == []
    assert outline(in_parts) == outline(one_piece)
    whole = pikepdf.open(io.BytesIO(in_parts))
    assert whole.Root.MarkInfo.Marked
    assert str(whole.Root.Lang) == "en"
    assert len(whole.Root.StructTreeRoot.K) == 1  # one Document element holds every part's
    assert b"pdfuaid" in whole.Root.Metadata.read_bytes()  # PDF/UA-1, as the first part says
    assert str(whole.docinfo.Title) == "Protect civic space"


def test_the_tag_check_finds_a_page_whose_key_leads_nowhere(long_letter, monkeypatch):
    # Parts joined without renumbering their keys: a reader would land on another page's elements.
    in_parts = render(long_letter, PART, monkeypatch)
    broken = pikepdf.open(io.BytesIO(in_parts))
    broken.pages[-1].obj.StructParents = 0
    out = io.BytesIO()
    broken.save(out)
    assert tag_tree_errors(out.getvalue())


def test_one_state_of_a_long_list_gives_the_same_bytes(long_letter, monkeypatch):
    assert render(long_letter, PART, monkeypatch) == render(long_letter, PART, monkeypatch)


def test_a_long_list_in_a_process_with_threads_gives_the_same_bytes(long_letter, monkeypatch):
    forked = render(long_letter, PART * 2, monkeypatch)
    with another_thread_running():
        spawned = render(long_letter, PART * 2, monkeypatch)
    assert spawned == forked


def test_a_part_keeps_what_goes_with_its_entries():
    tree = [
        ["h1", {}, ["Title"]],
        ["section", {"class": "roster"}, [
            ["h2", {}, ["Signatories"]],
            ["h3", {}, ["Individuals"]],
            ["ol", {"class": "roster-list"}, [
                ["A", "", "", "", ""], ["B", "", "", "", ""], ["C", "", "", "", ""],
            ]],
            ["p", {"class": "roster-unnamed"}, ["And 2 more"]],
            ["h3", {}, ["Organizations"]],
            ["ol", {"class": "roster-list"}, [["D", "", "", "", ""], ["E", "", "", "", ""]]],
            ["p", {"class": "roster-dispute"}, ["Is your name here?"]],
        ]],
    ]  # fmt: skip
    assert typst_pdf.count_entries(tree) == 5
    assert typst_pdf.part_of(tree, 0, 2, last=False) == [
        ["h1", {}, ["Title"]],
        ["section", {"class": "roster"}, [
            ["h2", {}, ["Signatories"]],
            ["h3", {}, ["Individuals"]],
            ["ol", {"class": "roster-list"}, [["A", "", "", "", ""], ["B", "", "", "", ""]]],
        ]],
    ]  # fmt: skip
    assert typst_pdf.part_of(tree, 2, 5, last=True) == [
        ["section", {"class": "roster"}, [
            ["ol", {"class": "roster-list"}, [["C", "", "", "", ""]]],
            ["p", {"class": "roster-unnamed"}, ["And 2 more"]],
            ["h3", {}, ["Organizations"]],
            ["ol", {"class": "roster-list"}, [["D", "", "", "", ""], ["E", "", "", "", ""]]],
            ["p", {"class": "roster-dispute"}, ["Is your name here?"]],
        ]],
    ]  # fmt: skip

"""
The PDF of a letter and its list laid out by Typst (PDF_ENGINE = "typst"):
the print version (letters/outputs/printing.py), read as a tree and drawn by
templates/letters/print.typ. Typst lays out 10,000 names in about a second
where WeasyPrint takes 40 (bench/pdf_engines.py).

Nothing a signer or an organizer wrote is ever read as Typst markup: the page
goes to the template as JSON data in `sys.inputs`, and the template shows each
string as text.
"""

import datetime as dt
import json
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import typst
from django.conf import settings
from typst import TypstError

__all__ = ["TypstError", "render_pdf_typst"]

from letters.languages import LetterVersions
from letters.outputs.pdfparts import join_parts, page_count
from letters.outputs.printing import main_version, print_html
from letters.outputs.typst_process import compile_pdf, measure_layout
from letters.rosters import Roster

# Debian's fonts-noto-core and fonts-noto-cjk: Latin, Arabic, Korean, Chinese, Japanese.
FONT_FOLDERS = ["/usr/share/fonts/truetype/noto", "/usr/share/fonts/opentype/noto"]

# A PDF of 100,000 names takes Typst about 20 s; a child still at work after this is ended.
CHILD_MAX_SECONDS = 300

# A longer list is laid out in parts of at most this many entries, each in a
# child of its own, and the parts joined into one PDF (letters/outputs/pdfparts.py):
# Typst holds about 10 kB an entry until its PDF is written, so 100,000 entries
# laid out at once took 1.4 GB. A part ends at the foot of a page.
PART_ENTRIES = 20_000

# What the print version's body is made of; anything else is drawn as its content.
VOID_TAGS = {"br", "hr", "img", "meta", "link", "input", "wbr"}
# Containers of blocks, where whitespace between the tags is only the source's indentation.
BLOCK_TAGS = {"body", "header", "article", "section", "div", "ol", "ul", "blockquote", "li"}
KEPT_ATTRIBUTES = {"class", "lang", "dir", "start"}
HEADING = re.compile(r"h[1-6]")
SPACES = re.compile(r"[ \t\n\r\f]+")  # HTML's whitespace, not Unicode's (a no-break space stays)


class PageTree(HTMLParser):
    """The <body> of a print page as nested [tag, attributes, children] lists, text as strings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: list = ["body", {}, []]
        self.open: list[list] = []
        self.heading_level = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.open = [self.root]
            return
        if not self.open:
            return  # the <head>: the template gets the title and the day apart
        if HEADING.fullmatch(tag):
            tag = self.heading(int(tag[1]))
        kept = {name: value or "" for name, value in attrs if name in KEPT_ATTRIBUTES}
        if "lang" in kept:
            kept["lang"] = typst_language(kept["lang"])
        start = kept.get("start", "1")
        if not (start.isascii() and start.isdigit() and len(start) <= 6):  # a letter's own <ol start="…">
            del kept["start"]
        element = [tag, kept, []]
        self.open[-1][2].append(element)
        if tag not in VOID_TAGS:
            self.open.append(element)

    def heading(self, level: int) -> str:
        """
        PDF/UA allows no skipped level (Typst refuses the document): a letter's
        "####" right under the title prints as the level below the title.
        """
        self.heading_level = min(level, self.heading_level + 1)
        return f"h{self.heading_level}"

    def handle_endtag(self, tag: str) -> None:
        if HEADING.fullmatch(tag):
            tag = f"h{self.heading_level}"
        if tag == "body":
            self.open = []
        elif self.open and tag not in VOID_TAGS and len(self.open) > 1:
            while len(self.open) > 1:
                closed = self.open.pop()
                if closed[0] == "li" and "roster-entry" in closed[1].get("class", "").split():
                    self.open[-1][2][-1] = roster_row(closed)
                if closed[0] == tag:
                    break

    def handle_data(self, data: str) -> None:
        if not self.open:
            return
        parent = self.open[-1]
        if parent[0] == "pre":
            parent[2].append(data)
            return
        text = SPACES.sub(" ", data)
        if text == " " and parent[0] in BLOCK_TAGS:
            return
        parent[2].append(text)


def roster_row(li: list) -> list[str]:
    """
    A list's entry as the template lays it out: [name, its direction, title,
    its direction, "signed an earlier version" or ""], five strings rather than
    a tree of spans. 100,000 entries drawn from such rows by one loop take
    Typst less than half the memory they took as trees (bench/pdf_engines.py).
    """
    row = ["", "", "", "", ""]
    for span in li[2]:
        if isinstance(span, str):
            continue
        kind = span[1].get("class", "").split()
        if "entry-name" in kind:
            row[0:2] = [text_of(span), span[1].get("dir", "")]
        elif "entry-title" in kind:
            row[2:4] = [text_of(span), span[1].get("dir", "")]
        elif "entry-mark" in kind:
            row[4] = text_of(span)
    return row


def text_of(node: list | str) -> str:
    return node if isinstance(node, str) else "".join(text_of(child) for child in node[2])


def page_tree(html: str) -> list:
    parser = PageTree()
    parser.feed(html)
    parser.close()
    return parser.root[2]


def typst_language(language: str) -> str:
    """Typst knows languages by their ISO 639 code alone: "en-gb" is "en", "zh-hans" is "zh"."""
    return language.split("-")[0].lower() or "en"


@cache
def template() -> bytes:
    return (Path(settings.BASE_DIR) / "templates" / "letters" / "print.typ").read_bytes()


def font_folders() -> list[str]:
    return [folder for folder in FONT_FOLDERS if Path(folder).is_dir()]


@cache
def fonts() -> typst.Fonts:
    """Read once per process (half a second): only the Noto families the template names are needed."""
    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=font_folders())


def render_pdf_typst(roster: Roster, paper: str, versions: LetterVersions | None = None) -> bytes:
    versions = versions or main_version(roster.letter)
    tree = page_tree(print_html(roster, paper, versions))
    inputs = {
        "title": versions.text.title,
        "date": roster.as_of.isoformat(),
        "lang": typst_language(versions.language),
        "dir": versions.dir,
        "paper": paper,
    }
    made = dt.datetime.combine(roster.as_of, dt.time(), tzinfo=dt.UTC)
    entries = count_entries(tree)
    if entries <= PART_ENTRIES:
        return lay_out(tree, inputs, made)
    return in_parts(tree, entries, inputs, made)


def lay_out(
    tree: list, inputs: dict[str, str], made: dt.datetime, measure: bool = False, whole: bool = True
) -> bytes:
    """
    The PDF of `tree` (or, measuring, where it ends), from a child process;
    `whole` is False for a part after the first (typst_process.compile_pdf).
    """
    job = {**inputs, "body": json.dumps(tree, ensure_ascii=False)}
    if measure:
        job["measure"] = "1"
    if threading.active_count() > 1:
        return in_a_new_process(job, made, whole)
    fonts()  # read here, once, for every child to come
    if measure:
        return in_a_child(lambda: measure_layout(template(), job, fonts()))
    return in_a_child(lambda: compile_pdf(template(), job, made, fonts(), whole))


def in_parts(tree: list, entries: int, inputs: dict[str, str], made: dt.datetime) -> bytes:
    """
    A list of more than PART_ENTRIES entries, laid out a part at a time so
    that no child holds more than one part. Each part but the last is first
    measured: the entries on its last page are left to the next part, which
    starts on a new page, so every page but the last is as full as in one
    piece. The last part, laid out as it is, tells the whole PDF's pages,
    which every footer prints ("12 / 1,650"); then the other parts are laid
    out with their page numbers, and all are joined, tags and outline included.
    """
    parts = []  # (first entry, entry after the last, first page number)
    start, pages = 0, 0
    while entries - start > PART_ENTRIES:
        end = start + PART_ENTRIES
        candidate = part_of(tree, start, end, last=False)
        measured = json.loads(
            lay_out(candidate, {**inputs, "first-page": str(pages + 1)}, made, measure=True)
        )
        if 0 < measured["last"] < end - start:
            cut, part_pages = end - measured["last"], measured["pages"] - 1
        else:  # a last page holding the whole part, or none of it: the part is kept whole
            cut, part_pages = end, measured["pages"]
        parts.append((start, cut, pages + 1))
        start, pages = cut, pages + part_pages
    last = lay_out(
        part_of(tree, start, entries, last=True), {**inputs, "first-page": str(pages + 1)}, made, whole=False
    )
    total = str(pages + page_count(last))
    laid_out = [
        lay_out(
            part_of(tree, first, end, last=False),
            {**inputs, "first-page": str(page), "total-pages": total},
            made,
            whole=first == 0,
        )
        for first, end, page in parts
    ]
    return join_parts([*laid_out, last])


def is_entry(node: list | str) -> bool:
    """A list's entry as roster_row makes it: five strings, where an element has a dict second."""
    return isinstance(node, list) and not isinstance(node[1], dict)


def holds_entries(node: list | str) -> bool:
    return isinstance(node, list) and any(is_entry(child) or holds_entries(child) for child in node[2])


def count_entries(nodes: list) -> int:
    return sum(
        1 if is_entry(node) else count_entries(node[2]) if holds_entries(node) else 0 for node in nodes
    )


def part_of(nodes: list, start: int, end: int, last: bool) -> list:
    """
    The page's tree with the list's entries start to end (counted across its
    sections) and what goes with them: whatever stands before the first
    entry goes with the first part (the letter, the list's heading and
    counts), a section's heading with the section's first entry, and what
    follows the last entry with the last part.
    """
    seen = 0

    def keep(nodes: list) -> list:
        nonlocal seen
        kept = []
        for node in nodes:
            if is_entry(node):
                if start <= seen < end:
                    kept.append(node)
                seen += 1
            elif holds_entries(node):
                children = keep(node[2])
                if children:
                    kept.append([node[0], node[1], children])
            elif start <= seen and (seen < end or last):
                kept.append(node)
        return kept

    return keep(nodes)


def in_a_new_process(inputs: dict[str, str], made: dt.datetime, whole: bool = True) -> bytes:
    """
    The PDF (or a part's measure) from a Python process of its own (letters/outputs/typst_process.py):
    in a process with threads, a forked child could inherit a lock another
    thread held and wait for it for ever. Costs the child reading its fonts.
    """
    job = {
        "template": template().decode(),
        "inputs": inputs,
        "made": made.isoformat(),
        "whole": whole,
        "font_folders": font_folders(),
    }
    command = [sys.executable, "-m", "letters.outputs.typst_process"]
    try:
        done = subprocess.run(  # noqa: S603 - our own module, no shell
            command,
            input=json.dumps(job).encode(),
            capture_output=True,
            timeout=CHILD_MAX_SECONDS,
            check=False,
            cwd=settings.BASE_DIR,
        )
    except subprocess.TimeoutExpired as error:
        raise TypstError("Typst ended without a PDF (out of time)") from error
    if done.returncode != 0 or not done.stdout:
        raise TypstError(done.stderr.decode(errors="replace").strip() or "Typst ended without a PDF")
    return done.stdout


def in_a_child(work: Callable[[], bytes]) -> bytes:
    """
    Runs `work` in a process forked for it and returns its PDF. Typst keeps
    what it laid out for its next ten documents (250 MB for 11,000 names): in
    a server process that never ends, it would hold gigabytes; a child gives
    it all back when it exits.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compile, send, and leave without running the parent's exit handlers
        status = 1
        try:
            # Orphaned when its worker is killed (gunicorn's timeout), it would
            # go on laying out; this ends it anyway.
            signal.alarm(CHILD_MAX_SECONDS)
            os.close(read)
            try:
                result = (b"pdf", work())
            except TypstError as error:
                result = (b"error", str(getattr(error, "message", None) or (error.args or [""])[0]))
            with os.fdopen(write, "wb") as pipe:
                pickle.dump(result, pipe)
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        received = pipe.read()
    os.waitpid(pid, 0)
    if not received:
        raise TypstError("Typst ended without a PDF (out of memory?)")
    kind, value = pickle.loads(received)  # noqa: S301 - from our own child
    if kind != b"pdf":
        raise TypstError(value)
    return value

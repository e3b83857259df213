"""
The print version as a Word document, for organizations that put a letter on
their letterhead: heading and date, subject, salutation, body with numbered
notes, closing, then the roster's sections. It reads the same `Roster` as every
other output; the text is the version the page shows (letters/languages.py).
"""

import io
import re
from xml.sax.saxutils import escape

import lxml.html
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation import gettext
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Inches, Mm, Pt
from docx.text.paragraph import Paragraph

from letters.languages import LetterVersions, interface_language, text_direction
from letters.outputs.printing import DEFAULT_PAPER
from letters.rosters import Roster
from signatories.normalize import xml_text

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# The fonts the PDF embeds, named for Word: Latin, East Asian and complex scripts (Arabic).
FONTS = {
    "ascii": "Noto Serif",
    "hAnsi": "Noto Serif",
    "eastAsia": "Noto Serif CJK KR",
    "cs": "Noto Naskh Arabic",
}
EAST_ASIAN_FONTS = {"ja": "Noto Serif CJK JP", "zh-hans": "Noto Serif CJK SC"}

BLOCKS = {"p", "h2", "h3", "h4", "li", "pre"}


# Page sizes and margins of the papers the PDF is printed on (letters.outputs.printing.PAPERS).
# python-docx's blank document is US Letter; a British letter whose PDF is A4 came out on it.
PAGE_SIZES = {"a4": (Mm(210), Mm(297), Mm(25)), "letter": (Inches(8.5), Inches(11), Inches(1))}


def letter_docx(roster: Roster, versions: LetterVersions, paper: str = DEFAULT_PAPER) -> bytes:
    with translation.override(versions.language):
        document = _Writer(roster, versions).write()
    width, height, margin = PAGE_SIZES[paper]
    for section in document.sections:
        section.page_width, section.page_height = width, height
        section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = margin
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


class _Writer:
    """
    The heading, date and roster are the page's, in its language and direction
    (each name in its own, as on the print version);
    the letter's own text (title to notes) is in its own, as on the print
    version (<article lang dir>): an Arabic text stays right to left under an
    English page, an English one left to right under an Arabic page.
    """

    def __init__(self, roster: Roster, versions: LetterVersions) -> None:
        self.roster = roster
        self.versions = versions
        self.text = versions.text
        self.page_rtl = versions.dir == "rtl"
        self.rtl = self.page_rtl
        self.document = Document()
        self._set_fonts(versions.language)

    def _set_fonts(self, language: str) -> None:
        style = self.document.styles["Normal"]
        style.font.size = Pt(11)
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        for attribute, name in (
            FONTS | {"eastAsia": EAST_ASIAN_FONTS.get(language, FONTS["eastAsia"])}
        ).items():
            fonts.set(qn(f"w:{attribute}"), name)
        style.element.get_or_add_rPr().append(_lang(language))

    def paragraph(self, text: str = "", style: str | None = None) -> Paragraph:
        paragraph = self.document.add_paragraph(xml_text(text), style=style)
        if self.rtl:
            paragraph.paragraph_format.element.get_or_add_pPr().append(OxmlElement("w:bidi"))
        return paragraph

    def write(self):
        # At the end of the line, as in the print version (left and right are physical in Word).
        date = self.paragraph(self.roster.as_of_text)
        date.alignment = WD_ALIGN_PARAGRAPH.LEFT if self.rtl else WD_ALIGN_PARAGRAPH.RIGHT
        self.letter_text()
        self.roster_sections()
        return self.document

    def letter_text(self) -> None:
        """Title, subject, salutation, body, closing and notes, in the text's own direction and language."""
        self.rtl = self.text.dir == "rtl"
        first = len(self.document.paragraphs)
        self.heading(self.text.title, level=1)
        notice = self.version_notice()
        if self.text.subject:
            self.paragraph().add_run(xml_text(self.text.subject)).bold = True
        if self.text.salutation:
            self.paragraph(self.text.salutation)
        self.html(self.text.body_text_html)
        if self.text.closing:
            self.paragraph(self.text.closing)
        if self.text.footnotes_html:
            self.notes(self.text.footnotes_html)
        # Chinese and Japanese characters drawn as their language draws them, whatever the page's.
        east_asian = EAST_ASIAN_FONTS.get(interface_language(self.text.language), FONTS["eastAsia"])
        for paragraph in self.document.paragraphs[first:]:
            if notice is not None and paragraph._p is notice._p:
                continue  # the page's words, not the letter's
            for run in paragraph.runs:
                properties = run._r.get_or_add_rPr()
                properties.get_or_add_rFonts().set(qn("w:eastAsia"), east_asian)
                properties.append(_lang(self.text.language))
        self.rtl = self.page_rtl

    def version_notice(self) -> Paragraph | None:
        """The print version's notice of a missing (or draft) translation, in the page's words."""
        context = {"versions": self.versions, "page_language": self.versions.language}
        text = strip_tags(render_to_string("letters/_version_notice.html", context)).strip()
        if not text:
            return None
        rtl, self.rtl = self.rtl, self.page_rtl
        paragraph = self.paragraph()
        paragraph.add_run(xml_text(text)).italic = True
        self.rtl = rtl
        return paragraph

    def heading(self, text: str, level: int) -> None:
        paragraph = self.document.add_heading(xml_text(text), level=level)
        if self.rtl:
            paragraph.paragraph_format.element.get_or_add_pPr().append(OxmlElement("w:bidi"))

    # The body: Markdown already rendered to safe HTML (letters/markdown.py), walked block by block.
    def html(self, html: str) -> None:
        if not html.strip():
            return
        root = lxml.html.fragment_fromstring(html, create_parent="div")
        self._blocks(root, prefix="")

    def _blocks(self, element, prefix: str) -> None:
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in {"ul", "ol"}:
                start = int(child.get("start") or 1)
                for n, item in enumerate(child.findall("li"), start=start):
                    self._block(item, f"{prefix}{n}. " if tag == "ol" else f"{prefix}• ")
            elif tag in {"blockquote", "div"}:
                self._blocks(child, prefix)
            elif tag in BLOCKS:
                self._block(child, prefix)

    def _block(self, element, prefix: str) -> None:
        nested = [child for child in element if child.tag in {"p", "ul", "ol", "blockquote"}]
        if nested:
            # A list item made of paragraphs: the first carries the number.
            paragraph = self.paragraph(prefix.rstrip() + " " if prefix else "")
            self._inline(paragraph, element, {}, stop_at_blocks=True)
            self._blocks(element, "    ")
            return
        if element.tag in {"h2", "h3", "h4"}:
            self.heading(element.text_content().strip(), level=int(element.tag[1]))
            return
        paragraph = self.paragraph(prefix)
        self._inline(paragraph, element, {})

    def _inline(self, paragraph: Paragraph, element, format: dict, stop_at_blocks: bool = False) -> None:
        if element.text:
            self._run(paragraph, element.text, format)
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else ""
            if stop_at_blocks and tag in {"p", "ul", "ol", "blockquote"}:
                continue
            if "footnote-backref" in (child.get("class") or ""):
                pass  # the web page's "↩" link back to the text
            elif tag == "br":
                paragraph.add_run().add_break()
            else:
                style = {
                    "strong": {"bold": True},
                    "b": {"bold": True},
                    "em": {"italic": True},
                    "i": {"italic": True},
                    "u": {"underline": True},
                    "s": {"strike": True},
                    "sup": {"superscript": True},
                    "sub": {"subscript": True},
                }.get(tag, {})
                self._inline(paragraph, child, format | style)
                href = child.get("href", "") if tag == "a" else ""
                # A link's address is printed after its words, as paper cannot be clicked.
                if href.startswith(("http://", "https://")) and href != child.text_content().strip():
                    self._run(paragraph, f" ({href})", format)
            if child.tail:
                self._run(paragraph, child.tail, format)

    def _run(self, paragraph: Paragraph, text: str, format: dict) -> None:
        run = paragraph.add_run(xml_text(text.replace("\n", " ")))
        for attribute in ("bold", "italic", "underline"):
            if format.get(attribute):
                setattr(run, attribute, True)
        if format.get("strike"):
            run.font.strike = True
        if format.get("superscript"):
            run.font.superscript = True
        if format.get("subscript"):
            run.font.subscript = True

    def notes(self, html: str) -> None:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
        for n, item in enumerate(root.iter("li"), start=1):
            paragraph = self.paragraph(f"{n}. ")
            for block in item:
                self._inline(paragraph, block, {})
            if paragraph.runs:  # the space python-markdown leaves before its "↩" link
                paragraph.runs[-1].text = paragraph.runs[-1].text.rstrip()
            for run in paragraph.runs:
                run.font.size = Pt(9)

    def roster_sections(self) -> None:
        roster = self.roster
        self.heading(roster.heading, level=2)
        self.paragraph(roster.counts_text)
        if roster.is_empty:
            # As the print version says it (letters/_roster.html).
            if roster.is_before_opening:
                notice = gettext("The letter had not yet opened for signatures on %(day)s.")
            else:
                notice = gettext("Nobody had signed this letter by the end of %(day)s.")
            self.paragraph(notice % {"day": roster.as_of_text})
            return
        for section in roster.printed_sections:
            self.heading(str(section.heading), level=3)
            self._append_xml([self.entry_xml(entry) for entry in section.entries])
            if section.unnamed:
                # Counted, never named (docs/design.md, "Signers who cannot be named").
                self.paragraph(section.unnamed_text)

    def entry_xml(self, entry) -> str:
        """
        An entry's paragraph as WordprocessingML, kept together, the name in
        bold and the title small below it: the markup python-docx writes for
        `add_paragraph`, `add_run().bold`, `add_break` and `font.size = Pt(9)`,
        written as text because its per-run API took 2.5 ms an entry (a
        10,000-name list in 28 s). A name in its own direction, as on the print
        version: in a right-to-left paragraph the ")" ending "The Elders (TE)"
        would move to the far side; a left-to-right one in a right-to-left page
        is set to the right, so that the column stays aligned, as in print.css.
        A signer of an earlier text is marked below, in italics, as on paper
        (`RosterEntry.earlier_version`, docs/design.md "What each signer signed").
        """
        name, title = entry.display_name, entry.title
        rtl = text_direction(name) == "rtl"
        properties = "<w:keepLines/>" + ("<w:bidi/>" if rtl else "") + '<w:spacing w:after="80"/>'
        if self.page_rtl and not rtl:
            properties += '<w:jc w:val="right"/>'
        runs = f"<w:r><w:rPr><w:b/></w:rPr>{_run_content(name)}</w:r>"
        if title:
            runs += f'<w:r><w:br/></w:r><w:r><w:rPr><w:sz w:val="18"/></w:rPr>{_run_content(title)}</w:r>'
        if entry.earlier_version:
            mark = gettext("signed an earlier version (version %(n)s)") % {"n": entry.earlier_version}
            italic = '<w:rPr><w:i/><w:sz w:val="16"/></w:rPr>'
            runs += f"<w:r><w:br/></w:r><w:r>{italic}{_run_content(mark)}</w:r>"
        return f"<w:p><w:pPr>{properties}</w:pPr>{runs}</w:p>"

    def _append_xml(self, paragraphs: list[str]) -> None:
        """Paragraphs of WordprocessingML added at the end of the body, read in one parse."""
        if not paragraphs:
            return
        body = self.document.element.body
        end = body.sectPr  # the page settings stay last
        body.extend(parse_xml(f"<w:body {nsdecls('w')}>{''.join(paragraphs)}</w:body>"))
        if end is not None:
            body.append(end)


# What python-docx writes for a run's text: a tab and a line break as elements, the rest in <w:t>.
_RUN_BREAKS = re.compile(r"(\t|\r|\n)")
_RUN_ELEMENTS = {"\t": "<w:tab/>", "\r": "<w:br/>", "\n": "<w:br/>"}


def _run_content(text: str) -> str:
    """The inside of a <w:r> holding `text`, as python-docx's `Run.text` writes it."""
    content = []
    for part in _RUN_BREAKS.split(xml_text(text)):
        if part in _RUN_ELEMENTS:
            content.append(_RUN_ELEMENTS[part])
        elif part:
            space = ' xml:space="preserve"' if len(part.strip()) < len(part) else ""
            content.append(f"<w:t{space}>{escape(part)}</w:t>")
    return "".join(content)


def _lang(language: str):
    """<w:lang>: the language Word checks the spelling of and reads aloud in, for every script."""
    lang = OxmlElement("w:lang")
    for attribute in ("val", "eastAsia", "bidi"):
        lang.set(qn(f"w:{attribute}"), language)
    return lang

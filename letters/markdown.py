"""The letter body: Markdown with footnotes, rendered and then sanitized."""

import re

import markdown
import nh3

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "s",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
    "h2",
    "h3",
    "h4",
    "sup",
    "sub",
    "div",
    "code",
    "pre",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id", "class"},
    "sup": {"id", "class"},
    "li": {"id"},
    "div": {"class"},
    "ol": {"start"},
}


def render_markdown(text: str) -> str:
    """
    Markdown to HTML that is safe to show: raw HTML in the source is escaped by
    the sanitizer, links keep only http(s) and mailto, footnotes become an
    ordered list at the end ("footnote" class), numbered in the order the text
    cites them.
    """
    html = markdown.markdown(
        text,
        extensions=["footnotes", "sane_lists", "smarty"],
        # Notes numbered as the reader meets them in the text, whatever order they are written in.
        extension_configs={
            "footnotes": {"BACKLINK_TITLE": "Back to the text", "USE_DEFINITION_ORDER": False},
        },
        output_format="html",
    )
    return keep_together(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
        )
    )


# A UN document symbol ("A/HRC/25/63", "E/CN.4/2005/L.10", "S/RES/2334 (2016)"'s first
# part): capitals, then slash-separated parts. Broken at a slash, it reads as two references.
SYMBOL = re.compile(r"(?<![\w/])[A-Z]{1,6}(?:\.\d+)?(?:/[A-Za-z0-9][A-Za-z0-9.\-]*)+(?<![.\-])")
TAG = re.compile(r"(<[^>]*>)")


def keep_together(html: str) -> str:
    """Wraps each document symbol of the text (never of a tag or its attributes) in a span no line breaks."""
    parts = TAG.split(html)
    for i in range(0, len(parts), 2):  # the text between tags
        parts[i] = SYMBOL.sub(lambda match: f'<span class="nobr">{match.group(0)}</span>', parts[i])
    return "".join(parts)


FOOTNOTES_START = '<div class="footnote">'


def split_footnotes(html: str) -> tuple[str, str]:
    """
    The rendered body and its footnotes apart, so a letter can print its notes
    after the closing. The footnotes extension always appends its list last.
    """
    start = html.rfind(FOOTNOTES_START)
    if start == -1 or not html.rstrip().endswith("</div>"):
        return html, ""
    return html[:start], html[start:]

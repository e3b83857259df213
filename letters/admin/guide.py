"""
The organizer's guide (docs/organizers.md) inside the console, linked from the
dashboard: the same file the repository shows, with its screenshots
(docs/img/, taken by tests/browser/test_guide_screenshots_browser.py).
"""

import re

import markdown
from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import render
from django.utils.safestring import mark_safe

GUIDE = "docs/organizers.md"
PICTURE = re.compile(r"[a-z0-9-]+\.png")


def guide(request: HttpRequest):
    text = (settings.BASE_DIR / GUIDE).read_text(encoding="utf-8")
    # Our own file, written by us: rendered as it is, links to other docs left as they are.
    html = markdown.markdown(text, extensions=["tables", "toc"], output_format="html")
    return render(request, "admin/guide.html", {"guide": mark_safe(html), "title": "Organizer’s guide"})  # noqa: S308


def guide_picture(request: HttpRequest, name: str):
    if not PICTURE.fullmatch(name):
        raise Http404
    path = settings.BASE_DIR / "docs" / "img" / name
    if not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"), content_type="image/png")

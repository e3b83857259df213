"""
One Typst PDF in a fresh Python process, for a process that has threads
(runserver, gunicorn's gthread workers), where forking one of them is unsafe:
letters/outputs/typst.py sends the template, the page and the fonts' folders
as JSON on standard input and reads the PDF on standard output. Imports
nothing of Django or the app, so it starts in a fraction of a second.

    python -m letters.outputs.typst_process < job.json > letter.pdf

With "measure" in the job, it lays the page out without making a PDF and
writes where the part ends as JSON (letters/outputs/typst.py, parts).
"""

import datetime as dt
import json
import sys

import typst


def compile_pdf(
    template: bytes, inputs: dict[str, str], made: dt.datetime, fonts: typst.Fonts, whole: bool = True
) -> bytes:
    compiler = typst.Compiler(font_paths=fonts, ignore_system_fonts=True, sys_inputs=inputs)
    # PDF/UA-1: a tagged PDF (headings, lists, reading order, language), so that
    # screen readers can follow the letter and its list. The list's day stands
    # for the moment of making it, so that one state always gives the same bytes.
    # A long list's parts after the first are tagged alike, but checked as one
    # PDF only once joined: alone, a part opens on a heading of the list's
    # sections, which PDF/UA-1 refuses as a document's first.
    standards = ["ua-1"] if whole else []
    return compiler.compile(
        input=template, format="pdf", pdf_standards=standards, pdf_tags=True, timestamp=made
    )


def measure_layout(template: bytes, inputs: dict[str, str], fonts: typst.Fonts) -> bytes:
    """A part laid out with inputs["measure"]: its pages and its last page's entries, as JSON."""
    compiler = typst.Compiler(input=template, font_paths=fonts, ignore_system_fonts=True, sys_inputs=inputs)
    return compiler.query("<measure>", field="value", one=True).encode()


def main() -> None:
    job = json.load(sys.stdin)
    fonts = typst.Fonts(
        include_system_fonts=False, include_embedded_fonts=True, font_paths=job["font_folders"]
    )
    made = dt.datetime.fromisoformat(job["made"])
    try:
        if job["inputs"].get("measure"):
            pdf = measure_layout(job["template"].encode(), job["inputs"], fonts)
        else:
            pdf = compile_pdf(job["template"].encode(), job["inputs"], made, fonts, job.get("whole", True))
    except typst.TypstError as error:
        sys.stderr.write(str(getattr(error, "message", None) or error).splitlines()[0] + "\n")
        sys.exit(1)
    sys.stdout.buffer.write(pdf)


if __name__ == "__main__":
    main()

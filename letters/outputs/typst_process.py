"""
One Typst PDF in a fresh Python process, for a process that has threads
(runserver, gunicorn's gthread workers), where forking one of them is unsafe:
letters/outputs/typst.py sends the template, the page and the fonts' folders
as JSON on standard input and reads the PDF on standard output. Imports
nothing of Django or the app, so it starts in a fraction of a second.

    python -m letters.outputs.typst_process < job.json > letter.pdf
"""

import datetime as dt
import json
import sys

import typst


def compile_pdf(template: bytes, inputs: dict[str, str], made: dt.datetime, fonts: typst.Fonts) -> bytes:
    compiler = typst.Compiler(font_paths=fonts, ignore_system_fonts=True, sys_inputs=inputs)
    # PDF/UA-1: a tagged PDF (headings, lists, reading order, language), so that
    # screen readers can follow the letter and its list. The list's day stands
    # for the moment of making it, so that one state always gives the same bytes.
    return compiler.compile(input=template, format="pdf", pdf_standards=["ua-1"], timestamp=made)


def main() -> None:
    job = json.load(sys.stdin)
    fonts = typst.Fonts(
        include_system_fonts=False, include_embedded_fonts=True, font_paths=job["font_folders"]
    )
    made = dt.datetime.fromisoformat(job["made"])
    try:
        pdf = compile_pdf(job["template"].encode(), job["inputs"], made, fonts)
    except typst.TypstError as error:
        sys.stderr.write(str(getattr(error, "message", None) or error).splitlines()[0] + "\n")
        sys.exit(1)
    sys.stdout.buffer.write(pdf)


if __name__ == "__main__":
    main()

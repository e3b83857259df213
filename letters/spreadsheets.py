"""
Cells that a spreadsheet would run as a formula.

Every CSV and XLSX we write passes its text cells through `escape_formula`; the
staff import passes them through `unescape_formula`, so an export re-imported
gives the same names. (django-import-export's own setting only strips a leading
"=", and defusedcsv misses tab and carriage return and rewrites "|", so neither
covers the list in PRODUCT.md.)
"""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: str) -> str:
    """Prefix a cell that starts like a formula with an apostrophe, which spreadsheets show as text."""
    if value and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def unescape_formula(value: str) -> str:
    """Undo `escape_formula` on a cell read back from one of our files."""
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value

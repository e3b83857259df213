import pytest

from letters.outputs.press import escape_formula, unescape_formula


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x")', "+1 555", "-2+3", "@SUM(A1)", "\tTab", "\rCR"])
def test_formula_looking_cells_are_escaped_and_come_back_unchanged(value):
    escaped = escape_formula(value)
    assert escaped == "'" + value
    assert unescape_formula(escaped) == value


@pytest.mark.parametrize(
    "value", ["", "Amnesty International", "O'Brien", "'quoted'", "Ojea-Quintana, Tomás"]
)
def test_ordinary_cells_are_untouched(value):
    assert escape_formula(value) == value
    assert unescape_formula(value) == value

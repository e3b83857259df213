"""The hostile-input corpus: tests/hostile/strings.txt, one JSON string per line."""

import json
from pathlib import Path


def load_strings() -> list[str]:
    text = (Path(__file__).parent / "strings.txt").read_text(encoding="utf-8")
    # Split on LF only: the corpus holds U+2028, U+0085 and friends, which splitlines() would also split on.
    return [json.loads(line) for line in text.split("\n") if line and not line.startswith("#")]


HOSTILE_STRINGS = load_strings()

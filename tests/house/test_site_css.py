"""The public style sheet: a focus ring anyone can see (WCAG 2.2, 1.4.11: 3:1 against what surrounds it)."""

import re
from pathlib import Path

CSS = (Path(__file__).resolve().parents[2] / "static/css/site.css").read_text()


def variable(name: str) -> str:
    return re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", CSS).group(1)


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_the_focus_ring_has_at_least_3_to_1_contrast_on_every_background():
    ring = re.search(r":focus-visible\s*\{\s*outline:\s*\d+px solid ([^;]+);", CSS).group(1).strip()
    colour = variable(ring[6:-1]) if ring.startswith("var(") else ring
    for background in ("paper", "tint"):
        assert contrast(colour, variable(background)) >= 3, background
    assert contrast("#f2b632", "#ffffff") < 3  # the old yellow ring: 1.8:1

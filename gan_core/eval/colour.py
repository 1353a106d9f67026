"""Name the dominant petal colour of a generated image: a rough check that colour words are followed."""

from __future__ import annotations

import re
from typing import Iterable

import numpy as np

PALETTE = {"red": (200, 30, 40), "yellow": (230, 205, 40), "white": (235, 235, 230), "purple": (120, 60, 170),
           "pink": (235, 130, 180), "orange": (240, 130, 30)}
COLOUR_WORD = re.compile(r"\b(" + "|".join(PALETTE) + r")\b")


def dominant_colour(image: np.ndarray) -> str:
    """Nearest PALETTE name to the mean of the 256 brightest, most saturated central pixels of a
    uint8 [64, 64, 3] image (petals rather than dark background or leaves)."""
    centre = image[16:48, 16:48].reshape(-1, 3).astype(np.float32)
    saturation = centre.max(1) - centre.min(1)
    brightness = centre.max(1)
    keep = centre[np.argsort(saturation + brightness)[-256:]]
    mean = keep.mean(0)
    return min(PALETTE, key=lambda name: float(np.sum((np.array(PALETTE[name]) - mean) ** 2)))


def single_colour_rows(rows: Iterable[int], texts: Iterable[str]) -> dict[str, list[int]]:
    """Image rows whose captions name exactly one PALETTE colour, and always the same one, by colour:
    real images to calibrate dominant_colour against (what share of "purple" flowers it names purple)."""
    named: dict[int, set[str]] = {}
    for row, text in zip(rows, texts):
        named.setdefault(int(row), set()).update(COLOUR_WORD.findall(str(text).lower()))
    groups: dict[str, list[int]] = {name: [] for name in PALETTE}
    for row, names in sorted(named.items()):
        if len(names) == 1:
            groups[next(iter(names))].append(row)
    return groups

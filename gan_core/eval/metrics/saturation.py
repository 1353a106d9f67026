"""Saturated pixels: the share of blown-out white and crushed black pixels in a set of images.

No paper behind it and no reference implementation: a workbench instrument. A generator that
collapses or diverges often paints large flat white or black areas, which FID reports only as a
larger number; these two fractions name the symptom. A pixel counts when all three channels are
past the threshold, so saturated colours (pure red: 255, 0, 0) count as neither.
"""

from __future__ import annotations

import numpy as np

WHITE_MIN = 250  # a pixel is white when R, G and B are all >= this
BLACK_MAX = 5  # a pixel is black when R, G and B are all <= this


def saturated_fractions(images) -> tuple[float, float]:
    """(white, black) fractions of pixels over all images, uint8 or float [N, H, W, 3] in [0, 255]."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.size == 0:
        raise ValueError(f"images must be a non-empty [N, H, W, 3] array, got shape {images.shape}")
    white = np.all(images >= WHITE_MIN, axis=-1).mean()
    black = np.all(images <= BLACK_MAX, axis=-1).mean()
    return float(white), float(black)

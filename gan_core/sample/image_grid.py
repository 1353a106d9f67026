"""Image grids with text labels (sample grids, the report grid, strips) as PNG bytes."""

from __future__ import annotations

import io
import textwrap

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def _font(size: int):
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


def compose_grid(images: np.ndarray, row_labels: list[str] | None = None, col_labels: list[str] | None = None,
                 scale: int = 2, label_width: int = 260, pad: int = 4) -> Image.Image:
    """images uint8 [R, C, H, W, 3] -> one RGB image, rows labelled on the left, columns on top."""
    rows, cols, h, w, _ = images.shape
    h, w = h * scale, w * scale
    font = _font(12)
    left = label_width if row_labels else 0
    top = 18 if col_labels else 0
    canvas = Image.new("RGB", (left + cols * (w + pad) + pad, top + rows * (h + pad) + pad), "white")
    draw = ImageDraw.Draw(canvas)
    for c in range(cols):
        if col_labels:
            draw.text((left + pad + c * (w + pad), 3), col_labels[c], fill="black", font=font)
    for r in range(rows):
        y = top + pad + r * (h + pad)
        if row_labels:
            lines = textwrap.wrap(row_labels[r], width=max(10, label_width // 7))[: max(1, h // 14)]
            draw.multiline_text((pad, y), "\n".join(lines), fill="black", font=font, spacing=2)
        for c in range(cols):
            tile = Image.fromarray(images[r, c]).resize((w, h), Image.Resampling.NEAREST)
            canvas.paste(tile, (left + pad + c * (w + pad), y))
    return canvas


def to_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()

"""Image grids with text labels (sample grids, the report grid, strips) as PNG bytes."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def _font(size: int):
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


LINE = 14  # pixels per label line at FONT_SIZE
FONT_SIZE = 12  # labels never shrink below this: long ones wrap instead (8-16 columns, runs side by side)


def wrap(text: str, width: int, font) -> list[str]:
    """`text` in lines no wider than `width` pixels (a word longer than that is cut by characters)."""
    lines: list[str] = []
    for word in str(text).split():
        while font.getlength(word) > width and len(word) > 1:
            cut = max(1, max(k for k in range(1, len(word) + 1) if font.getlength(word[:k]) <= width or k == 1))
            if lines and font.getlength(f"{lines[-1]} {word[:cut]}") <= width:
                lines[-1] += " " + word[:cut]
            else:
                lines.append(word[:cut])
            word = word[cut:]
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] += " " + word
        elif word:
            lines.append(word)
    return lines or [""]


def compose_grid(images: np.ndarray, row_labels: list[str] | None = None, col_labels: list[str] | None = None,
                 scale: int = 2, label_width: int = 260, pad: int = 4,
                 cell_labels: list[list[str]] | None = None) -> Image.Image:
    """images uint8 [R, C, H, W, 3] -> one RGB image, rows labelled on the left, columns on top, and
    (cell_labels, [R][C]) a short label under each tile. Labels keep a 12 px font and wrap to their
    tile's width (column labels grow the header; cell labels take up to two lines)."""
    rows, cols, h, w, _ = images.shape
    h, w = h * scale, w * scale
    font = _font(FONT_SIZE)
    left = label_width if row_labels else 0
    heads = [wrap(label, w, font) for label in col_labels] if col_labels else []
    top = (18 if max(map(len, heads)) == 1 else 4 + LINE * max(map(len, heads))) if heads else 0
    tails = [[wrap(text, w, font)[:2] for text in row] for row in cell_labels] if cell_labels else []
    below = LINE * max(len(t) for row in tails for t in row) if tails else 0
    step = h + below + pad
    canvas = Image.new("RGB", (left + cols * (w + pad) + pad, top + rows * step + pad), "white")
    draw = ImageDraw.Draw(canvas)
    for c, lines in enumerate(heads):
        draw.multiline_text((left + pad + c * (w + pad), 3), "\n".join(lines), fill="black", font=font, spacing=2)
    for r in range(rows):
        y = top + pad + r * step
        if row_labels:
            lines = wrap(row_labels[r], label_width - 2 * pad, font)[: max(1, (h + below) // LINE)]
            draw.multiline_text((pad, y), "\n".join(lines), fill="black", font=font, spacing=2)
        for c in range(cols):
            tile = Image.fromarray(images[r, c]).resize((w, h), Image.Resampling.NEAREST)
            x = left + pad + c * (w + pad)
            canvas.paste(tile, (x, y))
            if tails:
                draw.multiline_text((x, y + h + 1), "\n".join(tails[r][c]), fill="black", font=font, spacing=2)
    return canvas


def to_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()

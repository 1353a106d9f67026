"""Bytes for the download buttons: PNG strips, animated GIFs and the report-grid tables."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from PIL import Image

from gan_core.sample.image_grid import compose_grid, to_png


def strip_png(images: np.ndarray, labels: list[str], scale: int = 2) -> bytes:
    """uint8 [N, 64, 64, 3] -> one labelled row as PNG bytes."""
    return to_png(compose_grid(images[None], None, labels, scale=scale))


def gif(images: np.ndarray, scale: int = 2, frame_ms: int = 150, bounce: bool = True) -> bytes:
    """uint8 [N, H, W, 3] -> animated GIF bytes (forth and back when bounce), looping forever."""
    frames = [Image.fromarray(np.asarray(f)).resize((f.shape[1] * scale, f.shape[0] * scale), Image.Resampling.NEAREST)
              for f in images]
    if bounce and len(frames) > 2:
        frames = frames + frames[-2:0:-1]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()


def grid_table(rows, seeds: np.ndarray, truncation: float = 1.0, best_of: int = 1) -> pd.DataFrame:
    """One line per cell of rows (gan_core.explore.report_grid.GridRow) x columns: row, column, test ID ('' for
    free text), caption, seed, truncation, best_of — enough to rebuild the grid exactly with Sampler.generate."""
    records = []
    for r, row in enumerate(rows):
        for c in range(seeds.shape[1]):
            records.append({"row": r + 1, "column": c + 1, "test_id": "" if row.test_id is None else str(row.test_id),
                            "caption": row.caption, "seed": int(seeds[r, c]), "truncation": float(truncation),
                            "best_of": int(best_of)})
    return pd.DataFrame(records)


def grid_markdown(rows, seeds: np.ndarray, snapshot: str, truncation: float = 1.0, best_of: int = 1) -> str:
    """A Markdown table shaped like the grid: one line per caption (gan_core.explore.report_grid.GridRow), each
    cell's seed; the snapshot, truncation psi and best-of N above it."""
    cols = seeds.shape[1]
    lines = [f"Snapshot: `{snapshot}`; truncation psi {truncation:g}; best of {int(best_of)} by the GAN's D", "",
             "| ID | caption | " + " | ".join(f"seed col {c + 1}" for c in range(cols)) + " |",
             "|---|---|" + "---|" * cols]
    for r, row in enumerate(rows):
        caption = row.caption.replace("|", "\\|")
        test_id = "free text" if row.test_id is None else row.test_id
        lines.append(f"| {test_id} | {caption} | " + " | ".join(str(int(s)) for s in seeds[r]) + " |")
    return "\n".join(lines) + "\n"

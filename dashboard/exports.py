"""Bytes for the download buttons: PNG strips, animated GIFs; the report grid's tiles table."""

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


def grid_table(state, rows) -> pd.DataFrame:
    """The tiles CSV (gan_core.explore.report_grid.tiles_csv: one line per cell of the drawable rows)
    as a table, exactly what Download CSV saves and `scripts/report_grid.py --grid` reads."""
    from gan_core.explore.report_grid import tiles_csv

    return pd.read_csv(io.StringIO(tiles_csv(state, rows)), dtype={"test_id": str, "latent": str},
                       keep_default_na=False)

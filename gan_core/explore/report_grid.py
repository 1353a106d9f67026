"""The report's caption x seed grid: rows are test captions (by ID) or free captions, columns seeds.

Besides the PNG, a CSV and a Markdown table list every tile (row, ID, caption, seed), which is
all it takes to rebuild the grid exactly: `Sampler.grid(captions, seeds, truncation, best_of)` of the
same snapshot (the truncation psi and best-of N are recorded with every tile).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Sequence

from gan_core import UserError
from gan_core.data.competition import REPORT_IDS

REPORT_SEEDS = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class GridRow:
    row: int  # 0-based row in the grid
    test_id: int | None  # competition test ID, None for a free caption
    caption: str  # the caption exactly as given to the generator

    @property
    def label(self) -> str:
        return f"{self.test_id}: {self.caption}" if self.test_id is not None else f"(free) {self.caption}"


def grid_rows(dataset, ids: Sequence[int] = (), captions: Sequence[str] = ()) -> list[GridRow]:
    """Rows for the test IDs (captions from the dataset's test_captions.csv), then free captions."""
    texts = [(int(i), dataset.test_caption(int(i))) for i in ids] + [(None, str(c)) for c in captions]
    if not texts:
        raise UserError("the grid needs at least one test ID or caption")
    return [GridRow(r, test_id, text) for r, (test_id, text) in enumerate(texts)]


def render_grid(sampler, rows: Sequence[GridRow], seeds: Sequence[int], truncation: float = 1.0, best_of: int = 1):
    """-> (PIL image, images uint8 [R, S, 64, 64, 3]): row r, column s is caption r with seed s."""
    from gan_core.sample.image_grid import compose_grid

    if not seeds:
        raise UserError("the grid needs at least one seed")
    images = sampler.grid([r.caption for r in rows], list(seeds), truncation, best_of)
    return compose_grid(images, [r.label for r in rows], [f"seed {s}" for s in seeds]), images


def tiles_csv(rows: Sequence[GridRow], seeds: Sequence[int], truncation: float = 1.0, best_of: int = 1) -> str:
    """One line per tile: row, column, id, caption, seed, truncation, best_of."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["row", "column", "id", "caption", "seed", "truncation", "best_of"])
    for r in rows:
        for c, seed in enumerate(seeds):
            writer.writerow([r.row, c, "" if r.test_id is None else r.test_id, r.caption, seed, f"{truncation:g}",
                             int(best_of)])
    return buffer.getvalue()


def tiles_markdown(rows: Sequence[GridRow], seeds: Sequence[int], snapshot: str = "", truncation: float = 1.0,
                   best_of: int = 1) -> str:
    lines = [f"Grid of snapshot `{snapshot}`: rows are captions, columns seeds "
             f"{', '.join(map(str, seeds))}; truncation psi {truncation:g}; best of {int(best_of)} by the GAN's D.", "",
             "| row | ID | caption | seeds |", "|---|---|---|---|"]
    for r in rows:
        caption = r.caption.replace("|", "\\|")
        lines.append(f"| {r.row} | {'' if r.test_id is None else r.test_id} | {caption} | "
                     f"{', '.join(map(str, seeds))} |")
    return "\n".join(lines) + "\n"


def tile_size(image_shape: tuple[int, ...], rows: int, cols: int, scale: int = 2, pad: int = 4,
              label_width: int = 260, top: int = 18) -> tuple[int, int]:
    """(width, height) compose_grid gives for `rows` x `cols` tiles of `image_shape` with labels."""
    h, w = image_shape[0] * scale, image_shape[1] * scale
    return label_width + cols * (w + pad) + pad, top + rows * (h + pad) + pad



__all__ = ["GridRow", "REPORT_IDS", "REPORT_SEEDS", "grid_rows", "render_grid", "tile_size",
           "tiles_csv", "tiles_markdown"]

"""The report's caption x seed grid: rows are test captions (by ID) or free captions, columns seeds.

Besides the PNG, a CSV and a Markdown table list every tile (row, column, ID, caption, seed, psi,
best-of N, ...), which is all it takes to rebuild the grid exactly: the dashboard and
scripts/report_grid.py write and read the same CSV (tiles_csv / read_grid_file here), and the
same JSON state (gan_core.explore.grid_state).
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


def tile_size(image_shape: tuple[int, ...], rows: int, cols: int, scale: int = 2, pad: int = 4,
              label_width: int = 260, top: int = 18) -> tuple[int, int]:
    """(width, height) compose_grid gives for `rows` x `cols` tiles of `image_shape` with labels."""
    h, w = image_shape[0] * scale, image_shape[1] * scale
    return label_width + cols * (w + pad) + pad, top + rows * (h + pad) + pad


# -- the curated grid (gan_core.explore.grid_state.GridState): one schema for the dashboard and the script --
CSV_FIELDS = ("row", "column", "test_id", "caption", "seed", "locked", "evaluator_picked", "latent", "truncation",
              "best_of")  # row and column 1-based, as shown; truncation is the psi; latent: "" or z's numbers


def resolve_rows(state, test_caption) -> list[GridRow | UserError]:
    """Per row of `state`: its GridRow (digits are a test ID, read with test_caption(id)), or the
    UserError that keeps it from drawing (the other rows still draw)."""
    out: list[GridRow | UserError] = []
    for r, text in enumerate(state.rows):
        try:
            if not text:
                raise UserError("the row is empty: type a test ID or a caption")
            out.append(GridRow(r, int(text), test_caption(int(text))) if text.isdigit() else GridRow(r, None, text))
        except UserError as exc:
            out.append(exc)
    return out


def render_cells(sampler, state, rows: Sequence[GridRow | UserError]):
    """uint8 [R, C, 64, 64, 3]: each cell of the drawable rows with its own seed (or latent), psi and
    best-of N; rows that are errors stay black. Same caption and seed give the same image in any batch,
    so the dashboard and the script get the same pixels."""
    import numpy as np

    R, C = state.shape
    size = sampler.config.image_size
    images = np.zeros((R, C, size, size, 3), np.uint8)
    good = [r for r in range(R) if isinstance(rows[r], GridRow)]
    groups: dict[tuple, list[tuple[int, int]]] = {}
    for r in good:
        for c in range(C):
            cell = state.cells[r][c]
            key = ("latent", cell.psi) if cell.latent is not None else ("seed", cell.psi, cell.best_of)
            groups.setdefault(key, []).append((r, c))
    for key, where in groups.items():
        captions = [rows[r].caption for r, _ in where]
        if key[0] == "seed":
            flat = sampler.generate(captions, [state.cells[r][c].seed for r, c in where], key[1], key[2])
        else:
            z = np.array([state.cells[r][c].latent for r, c in where], np.float32) * np.float32(key[1])
            if z.shape[1] != sampler.noise_dim:
                raise UserError(f"a latent has {z.shape[1]} numbers but this snapshot's noise has {sampler.noise_dim}")
            flat = sampler.from_embeddings(sampler.encode(captions).embeddings, z)
        for (r, c), image in zip(where, flat):
            images[r, c] = image
    return images


def real_images(dataset, rows: Sequence[GridRow | UserError], size: int = 64):
    """uint8 [R, size, size, 3]: the real test image of each test-ID row, white for the others."""
    import numpy as np

    from gan_core.eval.baselines import _test_rows

    image_rows, ids = _test_rows(dataset)
    row_of = dict(zip(ids.tolist(), image_rows.tolist()))
    out = np.full((len(rows), size, size, 3), 255, np.uint8)
    pixels = dataset.images(size)
    for r, row in enumerate(rows):
        if isinstance(row, GridRow) and row.test_id in row_of:
            out[r] = pixels[row_of[row.test_id]]
    return out


def cell_label(cell) -> str:
    text = f"seed {cell.seed}" + (" (z)" if cell.latent is not None else "")
    return text + (f" ψ{cell.psi:g}" if cell.psi != 1.0 else "") + (f" N{cell.best_of}" if cell.best_of != 1 else "")


def compose_report(state, rows: Sequence[GridRow | UserError], images, real=None):
    """The exported PNG (a PIL image) of the drawable rows: columns headed by their seed, "mixed" ones
    with every cell's seed under its tile; `real` (uint8 [R, 64, 64, 3]) adds the real image column."""
    import numpy as np

    from gan_core.sample.image_grid import compose_grid

    good = [r for r in range(len(rows)) if isinstance(rows[r], GridRow)]
    if not good:
        raise UserError("no row of the grid can be drawn")
    R, C = state.shape
    heads = [cell_label(state.cells[good[0]][c]) if all(_same_draw(state.cells[r][c], state.cells[good[0]][c])
                                                          for r in good) else f"col {c + 1}: mixed seeds"
             for c in range(C)]
    mixed = any(h.endswith("mixed seeds") for h in heads)
    tiles = images[good]
    if real is not None:
        tiles = np.concatenate([tiles, real[good][:, None]], axis=1)
        heads = heads + ["real image"]
    cells = None
    if mixed:
        cells = [[cell_label(state.cells[r][c]) for c in range(C)] + ([""] if real is not None else []) for r in good]
    return compose_grid(tiles, [rows[r].label for r in good], heads, cell_labels=cells)


def _same_draw(a, b) -> bool:
    return (a.seed, a.psi, a.best_of, a.latent) == (b.seed, b.psi, b.best_of, b.latent)


def tiles_csv(state, rows: Sequence[GridRow | UserError]) -> str:
    """One line per cell of the drawable rows (CSV_FIELDS): what the dashboard downloads and the script
    writes, and what both read back (read_grid_file)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for r, row in enumerate(rows):
        if not isinstance(row, GridRow):
            continue
        for c, cell in enumerate(state.cells[r]):
            latent = "" if cell.latent is None else " ".join(repr(float(v)) for v in cell.latent)
            writer.writerow([r + 1, c + 1, "" if row.test_id is None else row.test_id, row.caption, cell.seed,
                             int(state.locked(r, c)), int(cell.picked_by == "evaluator"), latent, f"{cell.psi:g}",
                             cell.best_of])
    return buffer.getvalue()


def tiles_markdown(state, rows: Sequence[GridRow | UserError], snapshot: str = "") -> str:
    """A table shaped like the grid: per drawable row its ID, caption and each cell's seed (psi and N
    when not 1, "locked", "evaluator-picked")."""
    C = state.shape[1]
    lines = [f"Grid of snapshot `{snapshot}`: rows are captions, one seed per cell; psi {state.psi:g} and best of "
             f"{state.best_of} by the GAN's D unless a cell says otherwise.", "",
             "| row | ID | caption | " + " | ".join(f"col {c + 1}" for c in range(C)) + " |",
             "|---|---|---|" + "---|" * C]
    for r, row in enumerate(rows):
        if not isinstance(row, GridRow):
            continue
        marks = []
        for c, cell in enumerate(state.cells[r]):
            text = cell_label(cell) + (" locked" if state.locked(r, c) else "")
            marks.append(text + (" evaluator-picked" if cell.picked_by == "evaluator" else ""))
        caption = row.caption.replace("|", "\\|")
        lines.append(f"| {r + 1} | {'' if row.test_id is None else row.test_id} | {caption} | " + " | ".join(marks)
                     + " |")
    return "\n".join(lines) + "\n"


def state_from_csv(text: str):
    """A GridState from the tiles CSV (the dashboard's download or the script's OUT.csv)."""
    from gan_core.explore.grid_state import FORMAT, GridState

    reader = csv.DictReader(io.StringIO(text))
    missing = [f for f in ("row", "column", "seed") if f not in (reader.fieldnames or [])]
    if missing or not ({"test_id", "id", "caption"} & set(reader.fieldnames or [])):
        raise UserError(f"not a report grid CSV: it needs the columns {', '.join(CSV_FIELDS)}")
    try:
        lines = list(reader)
        where = {(int(t["row"]), int(t["column"])): t for t in lines}
    except (ValueError, TypeError, csv.Error) as exc:
        raise UserError(f"not a report grid CSV: row and column must be whole numbers ({exc})") from None
    if not where:
        raise UserError("the grid CSV has no cells")
    rows_at, cols_at = sorted({r for r, _ in where}), sorted({c for _, c in where})
    if len(where) != len(lines) or len(where) != len(rows_at) * len(cols_at):
        raise UserError(f"the grid CSV must have one line per cell of {len(rows_at)} rows x {len(cols_at)} columns")
    cells, texts = [], []
    for r in rows_at:
        first = where[(r, cols_at[0])]
        test_id = str(first.get("test_id", first.get("id", "")) or "").strip()
        texts.append(test_id if test_id else str(first.get("caption", "")))
        cells.append([_csv_cell(where[(r, c)]) for c in cols_at])
    psi = float(cells[0][0]["psi"])
    return GridState.from_dict({"format": FORMAT, "rows": texts, "cells": cells, "column_locks": [False] * len(cols_at),
                                "psi": psi, "best_of": cells[0][0]["best_of"]})


def _csv_cell(line: dict) -> dict:
    latent = str(line.get("latent", "") or "").split()
    truthy = {"1", "true", "yes"}
    return {"seed": line.get("seed", ""), "psi": line.get("truncation", line.get("psi", "")) or 1.0,
            "best_of": line.get("best_of", "") or 1, "locked": str(line.get("locked", "")).lower() in truthy,
            "picked_by": "evaluator" if str(line.get("evaluator_picked", "")).lower() in truthy else "",
            "latent": [float(v) for v in latent] if latent else None}


def read_grid_file(path):
    """A GridState from a saved grid: the JSON state or the tiles CSV; a UserError in one line otherwise."""
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise UserError(f"grid file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the grid file {path}: {exc}") from None
    return parse_grid_text(text, path.name)


def parse_grid_text(text: str, name: str = "grid"):
    """A GridState from the text of a saved grid (JSON state or tiles CSV), told apart by content."""
    from gan_core.explore.grid_state import GridState

    try:
        if text.lstrip().startswith("{"):
            return GridState.from_json(text)
        return state_from_csv(text)
    except UserError as exc:
        raise UserError(f"{name}: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise UserError(f"{name}: not a report grid ({exc})") from None


__all__ = ["CSV_FIELDS", "GridRow", "REPORT_IDS", "REPORT_SEEDS", "compose_report", "grid_rows", "parse_grid_text",
           "read_grid_file", "real_images", "render_cells", "render_grid", "resolve_rows", "state_from_csv",
           "tile_size", "tiles_csv", "tiles_markdown"]

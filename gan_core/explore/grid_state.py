"""What a user curates in the report grid, as one plain object: rows (a test ID or a free caption), a
seed per cell, locks per cell and per column, the truncation psi and best-of N recorded per cell,
the re-roll counter and an undo stack. Saved as JSON, as the tiles CSV (gan_core.explore.report_grid)
or as a compact URL query; the dashboard keeps it in st.session_state and scripts/report_grid.py
--grid rebuilds its PNG. Pure Python: no streamlit, no TensorFlow.

Locks hold under everything: re-roll, reset, typed seeds, psi and best-of (a locked cell keeps the
psi and N it was drawn with). Re-rolled seeds come from (ROLL_SEED, roll counter), and the counter is
saved, so a restored grid never offers again the seeds its user already turned down.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from gan_core import UserError
from gan_core.data.competition import REPORT_IDS as DEFAULT_IDS

FORMAT = "gan_core.report_grid/1"
ROLL_SEED = 20240
UNDO_DEPTH = 30
MAX_SIDE = 16  # rows and columns
MAX_SEED = 2**32 - 1
PICKED_BY = ("", "gan_d", "evaluator")  # typed or rolled; best of K seeds by the GAN's D; by the evaluator
DEFAULT_SEEDS = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class Cell:
    seed: int
    psi: float = 1.0
    best_of: int = 1
    locked: bool = False
    picked_by: str = ""  # one of PICKED_BY: how the seed was chosen (recorded in the CSV)
    latent: tuple[float, ...] | None = None  # an explicit z (a saved latent file); used instead of the seed


def _check_seed(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UserError(f"{where}: the seed must be a whole number, got {value!r}")
    try:
        seed = int(str(value).strip())
    except ValueError:
        raise UserError(f"{where}: the seed must be a whole number, got {value!r}") from None
    if not 0 <= seed <= MAX_SEED:
        raise UserError(f"{where}: the seed must be from 0 to {MAX_SEED}, got {seed}")
    return seed


def _check_psi(value, where: str) -> float:
    try:
        psi = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{where}: psi must be a number in (0, 1], got {value!r}") from None
    if not 0.0 < psi <= 1.0:
        raise UserError(f"{where}: psi must be in (0, 1], got {psi:g}")
    return psi


def _check_best_of(value, where: str) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise UserError(f"{where}: best-of N must be a whole number from 1 to 64, got {value!r}") from None
    if not 1 <= n <= 64 or float(value) != n:
        raise UserError(f"{where}: best-of N must be a whole number from 1 to 64, got {value!r}")
    return n


def make_cell(data: dict, where: str) -> Cell:
    """A Cell from its JSON form, every field checked (a UserError naming `where`)."""
    if not isinstance(data, dict) or "seed" not in data:
        raise UserError(f"{where}: a cell needs at least a seed")
    picked = str(data.get("picked_by", "") or "")
    if picked not in PICKED_BY:
        raise UserError(f"{where}: picked_by must be one of {', '.join(repr(p) for p in PICKED_BY)}, got {picked!r}")
    latent = data.get("latent")
    if latent is not None:
        try:
            latent = tuple(float(np.float32(v)) for v in latent)
        except (TypeError, ValueError):
            raise UserError(f"{where}: a latent must be a list of numbers") from None
        if not latent or not np.all(np.isfinite(latent)):
            raise UserError(f"{where}: a latent must be a non-empty list of finite numbers")
    return Cell(_check_seed(data["seed"], where), _check_psi(data.get("psi", 1.0), where),
                _check_best_of(data.get("best_of", 1), where), bool(data.get("locked", False)), picked, latent)


@dataclass
class GridState:
    rows: list[str]  # per row: a test ID (digits) or a free caption, as the user typed it
    cells: list[list[Cell]]  # [row][column]
    column_locks: list[bool]
    psi: float = 1.0  # what unlocked cells are drawn with (the controls' value)
    best_of: int = 1
    real_column: bool = False  # the real test image as an extra last column (test-ID rows)
    rolls: int = 0  # re-rolls so far: the next new seed is roll_seed(rolls + 1)
    history: list[str] = field(default_factory=list, repr=False, compare=False)  # undo: earlier states as JSON

    @classmethod
    def default(cls, ids=DEFAULT_IDS, seeds=DEFAULT_SEEDS) -> "GridState":
        return cls([str(i) for i in ids], [[Cell(int(s)) for s in seeds] for _ in ids], [False] * len(seeds))

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.column_locks)

    # -- reading --------------------------------------------------------------------------------
    def locked(self, r: int, c: int) -> bool:
        return self.cells[r][c].locked or self.column_locks[c]

    def seeds(self) -> np.ndarray:
        return np.array([[cell.seed for cell in row] for row in self.cells], dtype=np.int64)

    def row_locked(self, r: int) -> bool:
        """A row with a locked cell keeps its caption (changing it would change that cell)."""
        return any(self.locked(r, c) for c in range(len(self.column_locks)))

    def column_uniform(self, c: int) -> bool:
        """Whether every cell of column c is drawn alike (same seed, psi, N; no latent)."""
        column = [self.cells[r][c] for r in range(len(self.rows))]
        return len({(x.seed, x.psi, x.best_of, x.latent) for x in column}) <= 1

    # -- changing (each change is one undo step) ------------------------------------------------------
    def _remember(self) -> None:
        self.history.append(self.to_json(history=False))
        del self.history[:-UNDO_DEPTH]

    def undo(self) -> bool:
        """Back to the state before the last change; False when there is none."""
        if not self.history:
            return False
        earlier = GridState.from_json(self.history.pop())
        history = self.history
        self.__dict__.update(earlier.__dict__)
        self.history = history
        return True

    def _next_seed(self) -> int:
        self.rolls += 1
        return int(np.random.default_rng([ROLL_SEED, self.rolls]).integers(0, 2**31 - 1))

    def _set(self, r: int, c: int, **changes) -> bool:
        if self.locked(r, c):
            return False
        self.cells[r][c] = replace(self.cells[r][c], **changes)
        return True

    def set_row(self, r: int, text: str) -> bool:
        """A test ID or caption for row r; False, unchanged, while the row has a locked cell."""
        text = str(text).strip()
        if text == self.rows[r] or self.row_locked(r):
            return False
        self._remember()
        self.rows[r] = text
        return True

    def set_seed(self, r: int, c: int, seed, picked_by: str = "") -> bool:
        """A typed seed for one cell (with the grid's psi and N); False, unchanged, when it is locked."""
        seed = _check_seed(seed, f"row {r + 1}, column {c + 1}")
        if self.locked(r, c) or (self.cells[r][c].seed == seed and self.cells[r][c].picked_by == picked_by):
            return False
        self._remember()
        return self._set(r, c, seed=seed, psi=self.psi, best_of=self.best_of, picked_by=picked_by, latent=None)

    def set_column_seed(self, c: int, seed) -> int:
        """One seed for the unlocked cells of column c. -> how many cells changed."""
        seed = _check_seed(seed, f"column {c + 1}")
        self._remember()
        return sum(self._set(r, c, seed=seed, psi=self.psi, best_of=self.best_of, picked_by="", latent=None)
                   for r in range(len(self.rows)))

    def set_latent(self, r: int, c: int, latent, seed: int = 0, psi=None) -> bool:
        """An explicit z for one cell (a saved latent file), drawn as G(psi * z); `seed` is kept as its
        label, `psi` is the file's (default: the controls')."""
        cell = make_cell({"seed": seed, "latent": list(latent), "psi": self.psi if psi is None else psi},
                         f"row {r + 1}, column {c + 1}")
        if self.locked(r, c):
            return False
        self._remember()
        return self._set(r, c, seed=cell.seed, latent=cell.latent, psi=cell.psi, best_of=1, picked_by="")

    def reroll_cell(self, r: int, c: int) -> bool:
        if self.locked(r, c):
            return False
        self._remember()
        return self._set(r, c, seed=self._next_seed(), psi=self.psi, best_of=self.best_of, picked_by="", latent=None)

    def _reroll_column(self, c: int) -> int:
        free = [r for r in range(len(self.rows)) if not self.locked(r, c)]
        if not free:
            return 0
        seed = self._next_seed()
        for r in free:
            self._set(r, c, seed=seed, psi=self.psi, best_of=self.best_of, picked_by="", latent=None)
        return len(free)

    def reroll_column(self, c: int) -> int:
        """One new seed for the unlocked cells of column c. -> cells changed."""
        self._remember()
        return self._reroll_column(c)

    def reroll_unlocked(self) -> int:
        """A new seed per column for its unlocked cells. -> cells changed."""
        self._remember()
        return sum(self._reroll_column(c) for c in range(len(self.column_locks)))

    def reset(self) -> int:
        """Unlocked cells back to seed = their column's default (0, 1, 2, ...). -> cells changed."""
        self._remember()
        return sum(self._set(r, c, seed=DEFAULT_SEEDS[c] if c < len(DEFAULT_SEEDS) else c, psi=self.psi,
                             best_of=self.best_of, picked_by="", latent=None)
                   for r in range(len(self.rows)) for c in range(len(self.column_locks)))

    def set_sampling(self, psi=None, best_of=None) -> int:
        """The psi and/or N for the unlocked cells (locked ones keep theirs). -> cells changed."""
        psi = self.psi if psi is None else _check_psi(psi, "psi")
        best_of = self.best_of if best_of is None else _check_best_of(best_of, "best of")
        if (psi, best_of) == (self.psi, self.best_of):
            return 0
        self._remember()
        self.psi, self.best_of = psi, best_of
        return sum(self._set(r, c, psi=psi, best_of=best_of) for r in range(len(self.rows))
                   for c in range(len(self.column_locks)))

    def lock_cell(self, r: int, c: int, on: bool) -> None:
        if self.cells[r][c].locked != bool(on):
            self._remember()
            self.cells[r][c] = replace(self.cells[r][c], locked=bool(on))

    def lock_column(self, c: int, on: bool) -> None:
        if self.column_locks[c] != bool(on):
            self._remember()
            self.column_locks[c] = bool(on)

    def set_real_column(self, on: bool) -> None:
        if self.real_column != bool(on):
            self._remember()
            self.real_column = bool(on)

    def new_seeds(self, k: int) -> list[int]:
        """k fresh seeds from the re-roll stream (candidates for a best-of-K fill)."""
        return [self._next_seed() for _ in range(int(k))]

    def fill(self, picks: dict[tuple[int, int], int], picked_by: str) -> int:
        """Seeds chosen for cells {(r, c): seed} by `picked_by`; locked cells are left. -> cells changed."""
        self._remember()
        return sum(self._set(r, c, seed=int(s), psi=self.psi, best_of=self.best_of, picked_by=picked_by, latent=None)
                   for (r, c), s in picks.items())

    def replace_with(self, other: "GridState") -> None:
        """A loaded grid replaces this one (one undo step; the roll counter never goes back)."""
        self._remember()
        history, rolls = self.history, max(self.rolls, other.rolls)
        self.__dict__.update(GridState.from_dict(other.to_dict()).__dict__)
        self.history, self.rolls = history, rolls

    # -- files and URLs -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        def cell(x: Cell) -> dict:
            data = {k: v for k, v in asdict(x).items() if v != getattr(Cell(0), k) or k == "seed"}
            if x.latent is not None:
                data["latent"] = list(x.latent)
            return data

        return {"format": FORMAT, "rows": list(self.rows), "cells": [[cell(x) for x in row] for row in self.cells],
                "column_locks": list(self.column_locks), "psi": self.psi, "best_of": self.best_of,
                "real_column": self.real_column, "rolls": self.rolls}

    def to_json(self, history: bool = False) -> str:
        data = self.to_dict()
        if history:
            data["history"] = list(self.history)
        return json.dumps(data, separators=(",", ":") if not history else (", ", ": "))

    @classmethod
    def from_dict(cls, data) -> "GridState":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UserError(f"not a report grid state (expected format {FORMAT!r})")
        rows, cells, locks = data.get("rows"), data.get("cells"), data.get("column_locks")
        if not isinstance(rows, list) or not isinstance(cells, list) or not isinstance(locks, list):
            raise UserError("a report grid state needs lists 'rows', 'cells' and 'column_locks'")
        if not 1 <= len(rows) <= MAX_SIDE or not 1 <= len(locks) <= MAX_SIDE:
            raise UserError(f"a report grid has 1 to {MAX_SIDE} rows and columns, got {len(rows)} x {len(locks)}")
        if len(cells) != len(rows) or any(not isinstance(row, list) or len(row) != len(locks) for row in cells):
            raise UserError(f"the cells must be {len(rows)} rows of {len(locks)} cells")
        grid = [[make_cell(x, f"row {r + 1}, column {c + 1}") for c, x in enumerate(row)]
                for r, row in enumerate(cells)]
        rolls = data.get("rolls", 0)
        if isinstance(rolls, bool) or not isinstance(rolls, int) or rolls < 0:
            raise UserError(f"'rolls' must be a whole number >= 0, got {rolls!r}")
        return cls([str(t).strip() for t in rows], grid, [bool(x) for x in locks],
                   _check_psi(data.get("psi", 1.0), "psi"), _check_best_of(data.get("best_of", 1), "best of"),
                   bool(data.get("real_column", False)), rolls)

    @classmethod
    def from_json(cls, text: str | bytes) -> "GridState":
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise UserError(f"the grid file is not valid JSON ({exc})") from None
        return cls.from_dict(data)

    def to_query(self) -> str:
        """The state as one URL-safe string (zlib + base64), for st.query_params["grid"]."""
        packed = zlib.compress(self.to_json().encode("utf-8"), 9)
        return base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")

    @classmethod
    def from_query(cls, text: str) -> "GridState":
        try:
            packed = base64.urlsafe_b64decode(str(text) + "=" * (-len(str(text)) % 4))
            raw = zlib.decompress(packed, bufsize=1 << 16)
        except (ValueError, zlib.error):
            raise UserError("the grid in the link is damaged (cannot decode its 'grid' parameter)") from None
        if len(raw) > 4_000_000:
            raise UserError("the grid in the link is too large")
        return cls.from_json(raw)


__all__ = ["Cell", "FORMAT", "GridState", "PICKED_BY", "ROLL_SEED", "make_cell"]

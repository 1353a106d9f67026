"""Two per-caption tables side by side (gan_core.eval.per_caption): who does better on which caption.

`compare(a, b)` joins two sources' tables on the test ID: per caption the gap term_a - term_b
(positive: A is worse; the competition's term is lower-is-better), and from A's side a win (gap <
-tie), a loss (gap > tie) or a tie. Only captions both sources have an image for are counted; the
others are left out and counted. Tables made for different caption sets are a UserError.
`per_class` is the mean term of each source per real flower class; `largest_gaps` the captions
with the biggest gap each way; `contact_sheet` a PNG of the worst captions (real, A, B).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gan_core import UserError

TIE = 1e-6  # |gap| at most this is a tie: the same image scores within float noise
SHARED = ("id", "caption", "colours", "real_class", "real_top1", "real_nearest_distance")
PER_SOURCE = ("missing", "term", "top1", "agree", "real_in_top5", "realism", "nearest_row", "nearest_distance")


@dataclass
class Comparison:
    table: pd.DataFrame  # one row per caption: SHARED, then each PER_SOURCE column as _a and _b, gap, outcome
    summary: dict  # shared, left_out, missing_a, missing_b, wins, losses, ties, mean_term_a/_b, mean_gap
    label_a: str = "A"
    label_b: str = "B"


def joined(table_a: pd.DataFrame, table_b: pd.DataFrame) -> pd.DataFrame:
    """The two tables on one row per caption; a UserError when their caption sets differ."""
    ids_a, ids_b = table_a["id"].astype(int).tolist(), table_b["id"].astype(int).tolist()
    if sorted(ids_a) != sorted(ids_b):
        only = sorted(set(ids_a) ^ set(ids_b))
        raise UserError(f"A and B were made for different caption sets ({len(ids_a)} and {len(ids_b)} captions, "
                        f"{len(only)} IDs in only one, e.g. {', '.join(map(str, only[:3]))})")
    b = table_b.set_index(table_b["id"].astype(int)).loc[ids_a].reset_index(drop=True)
    differ = (table_a["caption"].astype(str).to_numpy() != b["caption"].astype(str).to_numpy())
    if differ.any():
        raise UserError(f"A and B were made for different caption sets: {int(differ.sum())} test IDs have other "
                        f"captions (e.g. ID {int(table_a['id'][np.argmax(differ)])})")
    out = table_a[[c for c in SHARED if c in table_a.columns]].copy()
    for name in PER_SOURCE:
        out[f"{name}_a"] = table_a[name].to_numpy()
        out[f"{name}_b"] = b[name].to_numpy()
    return out


def compare(table_a: pd.DataFrame, table_b: pd.DataFrame, tie: float = TIE, label_a: str = "A",
            label_b: str = "B") -> Comparison:
    """Gaps, wins, losses and ties of A against B over the captions both have."""
    table = joined(table_a, table_b)
    shared = ~(table["missing_a"].astype(bool) | table["missing_b"].astype(bool))
    gap = table["term_a"] - table["term_b"]
    table["gap"] = gap.where(shared)
    table["outcome"] = np.select([~shared, gap < -tie, gap > tie], ["left out", "A wins", "B wins"], "tie")
    counted = table[shared]
    summary = {"captions": len(table), "shared": int(shared.sum()), "left_out": int((~shared).sum()),
               "missing_a": int(table["missing_a"].astype(bool).sum()),
               "missing_b": int(table["missing_b"].astype(bool).sum()),
               "wins": int((table["outcome"] == "A wins").sum()), "losses": int((table["outcome"] == "B wins").sum()),
               "ties": int((table["outcome"] == "tie").sum()), "tie": float(tie),
               "mean_term_a": float(counted["term_a"].mean()) if len(counted) else float("nan"),
               "mean_term_b": float(counted["term_b"].mean()) if len(counted) else float("nan"),
               "mean_gap": float(counted["gap"].mean()) if len(counted) else float("nan")}
    return Comparison(table, summary, label_a, label_b)


def per_class(comparison: Comparison) -> pd.DataFrame:
    """Per real class (shared captions): count, mean term of A and B, mean gap and A's wins; worst
    class of A first."""
    shared = comparison.table[comparison.table["outcome"] != "left out"]
    shared = shared.assign(win_a=shared["outcome"] == "A wins", agree_a=shared["agree_a"].astype(float),
                           agree_b=shared["agree_b"].astype(float))
    groups = shared.groupby("real_class")
    out = pd.DataFrame({"count": groups.size(), "term_a": groups["term_a"].mean(), "term_b": groups["term_b"].mean(),
                        "gap": groups["gap"].mean(), "wins_a": groups["win_a"].sum(),
                        "agree_a": groups["agree_a"].mean(), "agree_b": groups["agree_b"].mean()})
    return out.reset_index().sort_values("term_a", ascending=False, kind="stable").reset_index(drop=True)


def largest_gaps(comparison: Comparison, count: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(captions where A is most behind B, captions where A is most ahead), `count` each."""
    shared = comparison.table[comparison.table["outcome"] != "left out"]
    behind = shared[shared["gap"] > 0].sort_values("gap", ascending=False, kind="stable").head(count)
    ahead = shared[shared["gap"] < 0].sort_values("gap", ascending=True, kind="stable").head(count)
    return behind, ahead


def worst_first(table: pd.DataFrame, column: str = "term_a") -> pd.DataFrame:
    """Rows by `column`, highest (worst) first, missing values last; ties keep caption order."""
    return table.sort_values(column, ascending=False, na_position="last", kind="stable")


def summary_lines(comparison: Comparison) -> list[str]:
    s, a, b = comparison.summary, comparison.label_a, comparison.label_b
    lines = [f"A: {a}", f"B: {b}",
             f"captions            {s['captions']}  (both have an image: {s['shared']})",
             f"mean term           A {s['mean_term_a']:.4f}   B {s['mean_term_b']:.4f}   (lower is better)",
             f"A vs B              {s['wins']} wins, {s['losses']} losses, {s['ties']} ties (|gap| <= {s['tie']:g})"]
    if s["left_out"]:
        lines.append(f"left out            {s['left_out']} captions without an image in A ({s['missing_a']}) "
                     f"or B ({s['missing_b']})")
    classes = per_class(comparison)
    if len(classes):
        worst = ", ".join(f"{int(c)} ({t:.3f})" for c, t in zip(classes["real_class"][:5], classes["term_a"][:5]))
        lines.append(f"worst classes of A  {worst}")
    behind, ahead = largest_gaps(comparison, 3)
    for title, rows in (("A most behind", behind), ("A most ahead", ahead)):
        for _, row in rows.iterrows():
            lines.append(f"{title:<19} {int(row['id'])}: {row['gap']:+.3f}  {_short(row['caption'], 60)}")
    return lines


def _short(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sheet_rows(comparison: Comparison, count: int = 25) -> pd.DataFrame:
    """The contact sheet's rows: the `count` captions with A's worst terms (missing last)."""
    return worst_first(comparison.table).head(count)


def contact_sheet(rows: pd.DataFrame, real, images_a, images_b, label_a: str = "A", label_b: str = "B",
                  scale: int = 2):
    """PIL image: per row the caption (ID, terms), then the real image, A's and B's. `real`,
    `images_a`, `images_b` are uint8 [len(rows), 64, 64, 3]; a missing image is a grey tile."""
    from gan_core.sample.image_grid import compose_grid

    grid = np.stack([np.asarray(real, np.uint8), np.asarray(images_a, np.uint8), np.asarray(images_b, np.uint8)],
                    axis=1).copy()
    labels, cells = [], []
    for k, (_, row) in enumerate(rows.iterrows()):
        for column, side in ((1, "a"), (2, "b")):
            if _absent(row, side):
                grid[k, column] = 160
        labels.append(f"{int(row['id'])}: {row['caption']}")
        cells.append([f"class {int(row['real_class'])}", _cell(row, "a"), _cell(row, "b")])
    return compose_grid(grid, labels, ["real", _short(label_a, 40), _short(label_b, 40)], scale=scale,
                        label_width=340, cell_labels=cells)


def _absent(row, side: str) -> bool:
    """No image on this side: missing from a folder, or no source B at all (NaN term)."""
    return bool(row[f"missing_{side}"]) or not np.isfinite(float(row[f"term_{side}"]))


def _cell(row, side: str) -> str:
    if _absent(row, side):
        return "missing" if bool(row[f"missing_{side}"]) else "—"
    return f"{row[f'term_{side}']:.3f} · c{int(row[f'top1_{side}'])}"


def sheet_png(comparison: Comparison, result_a, result_b, dataset, count: int = 25) -> bytes:
    """The contact sheet (PNG bytes) of the `count` worst captions of A, from two PerCaption results
    and the prepared data set that holds the real images."""
    from gan_core.sample.image_grid import to_png

    rows = sheet_rows(comparison, count)
    real_row = {int(i): int(r) for i, r in zip(dataset.image_table["test_id"].dropna().astype(int),
                                               dataset.image_table.index[dataset.image_table["test_id"].notna()])}
    pictures = np.asarray(dataset.images(64))
    real = np.stack([pictures[real_row[int(i)]] if int(i) in real_row else np.full((64, 64, 3), 160, np.uint8)
                     for i in rows["id"]])
    picked = [_aligned(result, rows["id"]) for result in (result_a, result_b)]
    return to_png(contact_sheet(rows, real, *picked, comparison.label_a, comparison.label_b))


def _aligned(result, ids) -> np.ndarray:
    position = {int(i): k for k, i in enumerate(result.table["id"])}
    return np.asarray(result.images)[[position[int(i)] for i in ids]]

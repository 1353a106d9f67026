"""Report grid: 5 captions x 5 seeds; lock or re-roll a column or a single cell; PNG + tables that
record every cell's seed so the grid can be rebuilt exactly."""

import numpy as np
import streamlit as st

from dashboard import exports, loaders
from dashboard.components import (best_of_ui, check_captions, display_path, page_roots, show_notes, shown_errors,
                                  snapshot_ui, truncation_ui)
from gan_core import UserError
from gan_core.explore.report_grid import REPORT_IDS, REPORT_SEEDS, GridRow
from gan_core.sample.image_grid import compose_grid, to_png

SIZE = len(REPORT_IDS)  # 5 captions x 5 seeds
ROLL_SEED = 20240  # re-rolled seeds come from (ROLL_SEED, roll count): reproducible sessions

roots = page_roots()
st.title("Report grid")
snapshot = snapshot_ui(roots.checkpoints)
if "report_seeds" not in st.session_state:
    st.session_state["report_seeds"] = [list(REPORT_SEEDS) for _ in range(SIZE)]
    st.session_state["report_rolls"] = 0


def _new_seed() -> int:
    st.session_state["report_rolls"] += 1
    return int(np.random.default_rng([ROLL_SEED, st.session_state["report_rolls"]]).integers(0, 2**31 - 1))


def reroll_column(column: int) -> None:
    seed = _new_seed()
    for row in st.session_state["report_seeds"]:
        row[column] = seed


def reroll_unlocked() -> None:
    for column in range(SIZE):
        if not st.session_state.get(f"lock_{column}", False):
            reroll_column(column)


def reroll_cell(row: int, column: int) -> None:
    st.session_state["report_seeds"][row][column] = _new_seed()


def reset_seeds() -> None:
    st.session_state["report_seeds"] = [list(REPORT_SEEDS) for _ in range(SIZE)]


def rows_ui() -> list[GridRow]:
    """Five captions: a test ID (digits) or free text."""
    st.caption("Each row is a competition test ID (digits only) or your own caption.")
    rows, problems = [], {}
    for r in range(SIZE):
        text = st.text_input(f"Row {r + 1}", str(REPORT_IDS[r]), key=f"report_row_{r}",
                             placeholder=f"row {r + 1}: a test ID or a caption").strip()
        if text.isdigit():
            try:
                caption = loaders.load_dataset(str(roots.data)).test_caption(int(text))
                rows.append(GridRow(r, int(text), caption))
            except UserError as exc:
                problems.setdefault(str(exc), []).append(str(r + 1))
        else:
            rows.append(GridRow(r, None, text))
    for problem, where in problems.items():
        st.error(f"Row{'s' if len(where) > 1 else ''} {', '.join(where)}: {problem}")
    return rows if not problems else []


def seed_controls_ui(can_rank: bool) -> tuple[float, int]:
    """Re-roll and reset buttons; the truncation psi and best-of N (returned)."""
    left, mid, right, best, _ = st.columns([1, 1, 1.4, 0.8, 0.8])
    left.button("Re-roll unlocked columns", on_click=reroll_unlocked, key="reroll_all", type="primary")
    mid.button("Reset seeds to 0-4", on_click=reset_seeds, key="reset_seeds")
    return truncation_ui("report_psi", right), best_of_ui("report_best_of", can_rank, best)


def grid_ui(rows: list[GridRow], images: np.ndarray, seeds: np.ndarray) -> None:
    header = st.columns([2.2] + [1] * SIZE)
    header[0].markdown("**Caption**")
    for c in range(SIZE):
        uniform = len(set(seeds[:, c])) == 1
        header[c + 1].markdown(f"**Column {c + 1}**  \nseed {seeds[0, c] if uniform else 'mixed'}")
        header[c + 1].checkbox("lock", key=f"lock_{c}")
        header[c + 1].button("↻ column", key=f"reroll_col_{c}", on_click=reroll_column, args=(c,),
                             disabled=st.session_state.get(f"lock_{c}", False))
    for r, row in enumerate(rows):
        cells = st.columns([2.2] + [1] * SIZE)
        cells[0].markdown(f"**{row.test_id if row.test_id is not None else 'free text'}**  \n{row.caption}")
        for c in range(SIZE):
            cells[c + 1].image(images[r, c], caption=f"seed {seeds[r, c]}", width="stretch")
            cells[c + 1].button("↻", key=f"reroll_{r}_{c}", on_click=reroll_cell, args=(r, c),
                                help="Re-roll this cell only")


def downloads_ui(rows: list[GridRow], images: np.ndarray, seeds: np.ndarray, psi: float, best_of: int) -> None:
    labels = [f"seed {seeds[0, c]}" if len(set(seeds[:, c])) == 1 else f"col {c + 1} (mixed)" for c in range(SIZE)]
    png = to_png(compose_grid(images, [row.label for row in rows], labels))
    table = exports.grid_table(rows, seeds, psi, best_of)
    st.subheader("Rebuild it")
    st.dataframe(table, hide_index=True)
    a, b, c, _ = st.columns([1, 1, 1, 3])
    a.download_button("Download PNG", png, file_name="report_grid.png", mime="image/png", key="report_png")
    b.download_button("Download CSV", table.to_csv(index=False), file_name="report_grid.csv", mime="text/csv",
                      key="report_csv")
    c.download_button("Download MD", exports.grid_markdown(rows, seeds, display_path(snapshot, roots.checkpoints), psi,
                                             best_of),
                      file_name="report_grid.md", mime="text/markdown", key="report_md", help="Markdown table")


if snapshot is None:
    st.info("Choose a usable snapshot in the sidebar to build the grid.")
    st.stop()

with shown_errors("The report grid"):
    generator = loaders.load_generator(snapshot)
    rows = rows_ui()
    if rows:
        labels = [f"Row {k + 1}" for k in range(len(rows))]
        show_notes(check_captions(generator.vocab, [row.caption for row in rows], labels))
        seeds = np.array(st.session_state["report_seeds"], dtype=np.int64)
        psi, best_of = seed_controls_ui(generator.can_rank)
        captions = tuple(row.caption for row in rows for _ in range(SIZE))
        flat = loaders.generate_pairs(snapshot, captions, tuple(int(s) for s in seeds.ravel()), psi, best_of)
        images = flat.reshape(SIZE, SIZE, *flat.shape[1:])
        grid_ui(rows, images, seeds)
        downloads_ui(rows, images, seeds, psi, best_of)

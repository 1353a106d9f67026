"""Report grid: captions x seeds, curated without losing work. The grid lives in one GridState
(dashboard.grid_state), outside widget state and in the URL; widgets are re-seeded from it on every
draw and write to it in their callbacks. At the top, the exact PNG that Download PNG saves."""

import numpy as np
import streamlit as st

from dashboard import exports, loaders
from dashboard.components import BEST_OF_CHOICES, check_captions, display_path, page_roots, shown_errors, snapshot_ui
from dashboard.grid_extras import extras_ui, preview
from dashboard.grid_latents import latent_ui
from dashboard.grid_state import PROBLEM_KEY, grid_state, sync_query
from gan_core import UserError
from gan_core.explore.report_grid import GridRow, parse_grid_text, resolve_rows

roots = page_roots()
state = grid_state(st.session_state, st.query_params)
R, C = state.shape


def seeded(key: str, value):
    """Re-seed a widget from the state before drawing it (its own key may have been dropped)."""
    st.session_state[key] = value
    return key


def note(message: str) -> None:
    st.session_state[PROBLEM_KEY] = message


def guarded(change):
    """A callback that turns a refused input (UserError) into a message instead of a traceback."""
    def run(*args):
        try:
            change(*args)
        except UserError as exc:
            note(str(exc))
    return run


# -- callbacks: the only writers of the state ----------------------------------------------------------
def on_row(r):
    if not state.set_row(r, st.session_state[f"report_row_{r}"]) and state.row_locked(r):
        note(f"Row {r + 1} has a locked cell, so it keeps its caption.")


def selected() -> tuple[int, int]:
    return int(st.session_state.get("cell_row", 0)) % R, int(st.session_state.get("cell_col", 0)) % C


def on_cell_seed():
    r, c = selected()
    state.set_seed(r, c, st.session_state["cell_seed"])


def on_column_seed(c):
    state.set_column_seed(c, st.session_state[f"col_seed_{c}"])


def on_sampling():
    state.set_sampling(st.session_state["report_psi"], st.session_state["report_best_of"])


def on_load(text: str, name: str):
    state.replace_with(parse_grid_text(text, name))
    note(f"Loaded {name}: {state.shape[0]} rows x {state.shape[1]} columns.")


def on_upload():
    uploaded = st.session_state.get("report_upload")
    if uploaded is not None:
        on_load(uploaded.getvalue().decode("utf-8", errors="replace"), uploaded.name)


def on_paste():
    on_load(st.session_state.get("report_paste", ""), "the pasted grid")


# -- drawing ------------------------------------------------------------------------------------------
@st.cache_data(max_entries=64, show_spinner="Drawing the grid…")
def render(snapshot: str, state_json: str, rows: tuple) -> np.ndarray:
    """uint8 [R, C, 64, 64, 3] of a state (as JSON: hashable) and its rows ((test ID, caption) or None)."""
    from gan_core.explore.grid_state import GridState
    from gan_core.explore.report_grid import render_cells

    cells = [GridRow(r, *row) if row else UserError("") for r, row in enumerate(rows)]
    return loaders.sampler_pool().run(snapshot, lambda g: render_cells(g, GridState.from_json(state_json), cells))


def checked_rows(vocab) -> tuple[list, list[str]]:
    """Rows resolved (GridRow or the UserError that keeps it out) and the vocabulary notes."""
    dataset = None
    try:
        dataset = loaders.load_dataset(str(roots.data))
    except UserError as exc:
        missing = exc
    rows = resolve_rows(state, dataset.test_caption if dataset else lambda _i: (_ for _ in ()).throw(missing))
    notes = []
    for r, row in enumerate(rows):
        if isinstance(row, GridRow):
            try:
                notes += check_captions(vocab, [row.caption], [f"Row {r + 1}"])
            except UserError as exc:
                rows[r] = exc
    return rows, notes


def controls_ui(can_rank: bool) -> None:
    """One line: re-roll, reset, undo, psi and best-of (for the unlocked cells)."""
    roll, reset, undo, psi, best = st.columns([1.25, 1, 0.75, 1.2, 0.8], vertical_alignment="bottom")
    roll.button("Re-roll unlocked", key="reroll_all", type="primary", width="stretch", on_click=state.reroll_unlocked,
                help="A new seed per column, for its unlocked cells")
    reset.button("Reset unlocked", key="reset_seeds", width="stretch", on_click=state.reset,
                 help="Unlocked cells back to seeds 0-4 (column 1 = 0, ...)")
    undo.button("Undo", key="report_undo", width="stretch", on_click=state.undo, disabled=not state.history,
                help=f"Undo the last change ({len(state.history)} kept)")
    psi.slider("Truncation ψ", 0.5, 1.0, step=0.05, key=seeded("report_psi", state.psi), on_change=guarded(on_sampling),
               help="Scales each seed's noise by ψ. Applies to unlocked cells; a locked cell keeps its ψ.")
    choices = BEST_OF_CHOICES if can_rank else (1,)
    best.selectbox("Best of N", choices, key=seeded("report_best_of", state.best_of if can_rank else 1),
                   on_change=guarded(on_sampling), disabled=not can_rank,
                   help="N candidates per image, the GAN's own D keeps one. Applies to unlocked cells. On the "
                        "shipped snapshot it worsened score and FID." + ("" if can_rank else
                                                                         " This snapshot holds no discriminator."))


def cell_ui(rows) -> None:
    a, b = st.columns(2)
    a.selectbox("Row", range(R), key=seeded("cell_row", selected()[0]), format_func=lambda r: f"Row {r + 1}")
    b.selectbox("Column", range(C), key=seeded("cell_col", selected()[1]), format_func=lambda c: f"Column {c + 1}")
    r, c = selected()
    cell, locked = state.cells[r][c], state.locked(r, c)
    seed, lock, roll = st.columns([1.3, 1.1, 0.55], vertical_alignment="bottom")  # "Lock" uncut at 1280 px
    seed.number_input("Seed", 0, 2**32 - 1, step=1, key=seeded("cell_seed", cell.seed), on_change=guarded(on_cell_seed),
                      disabled=locked, help="Type a seed for this cell (e.g. one found on Generate)")
    lock.toggle("Lock", key=seeded("cell_lock", cell.locked), on_change=lambda: state.lock_cell(
        *selected(), st.session_state["cell_lock"]), help="Nothing changes a locked cell")
    roll.button("↻", key="reroll_cell", on_click=lambda: state.reroll_cell(*selected()), disabled=locked,
                help="Re-roll this cell only")
    extra = [f"ψ {cell.psi:g}", f"best of {cell.best_of}"] + (["column locked"] if state.column_locks[c] else [])
    extra += ["evaluator-picked"] if cell.picked_by == "evaluator" else (["best of K by D"] if cell.picked_by else [])
    st.caption(f"Row {r + 1}, column {c + 1}: " + ", ".join(extra + (["explicit latent"] if cell.latent else [])))
    latent_ui(state, rows, snapshot, r, c, note)


def columns_ui() -> None:
    for c in range(C):
        label, lock, seed, roll = st.columns([0.9, 0.8, 1.4, 0.5], vertical_alignment="center")
        label.markdown(f"**Col {c + 1}**" + ("" if state.column_uniform(c) else "  \nmixed"))
        lock.checkbox("lock", key=seeded(f"lock_{c}", state.column_locks[c]),
                      on_change=lambda c=c: state.lock_column(c, st.session_state[f"lock_{c}"]))
        seed.number_input(f"Seed of column {c + 1}", 0, 2**32 - 1, step=1, label_visibility="collapsed",
                          key=seeded(f"col_seed_{c}", state.cells[0][c].seed), on_change=guarded(on_column_seed),
                          args=(c,), disabled=state.column_locks[c], help="One seed for the column's unlocked cells")
        roll.button("↻", key=f"reroll_col_{c}", on_click=state.reroll_column, args=(c,),
                    disabled=state.column_locks[c], help="Re-roll this column's unlocked cells")


def rows_ui(rows) -> None:
    st.caption("Each row: a competition test ID (digits) or your own caption.")
    for r in range(R):
        st.text_input(f"Row {r + 1}", key=seeded(f"report_row_{r}", state.rows[r]), on_change=on_row, args=(r,),
                      disabled=state.row_locked(r), placeholder="a test ID or a caption",
                      help="Unlock the row's cells to change its caption" if state.row_locked(r) else None)
        if isinstance(rows[r], UserError):
            st.error(f"Row {r + 1}: {rows[r]}")


def file_ui(rows, png: bytes | None, snapshot: str) -> None:
    from gan_core.explore.report_grid import tiles_csv, tiles_markdown

    a, b = st.columns(2)
    a.download_button("Download PNG", png or b"", file_name="report_grid.png", mime="image/png", key="report_png",
                      disabled=png is None, width="stretch")
    b.download_button("Save grid (JSON)", state.to_json(history=False), file_name="report_grid.json",
                      mime="application/json", key="report_json", width="stretch",
                      help="Everything: rows, seeds, locks, ψ and N per cell, the re-roll count")
    a.download_button("Download CSV", tiles_csv(state, rows), file_name="report_grid.csv", mime="text/csv",
                      key="report_csv", width="stretch", help="One line per cell; loads back here and in "
                      "`scripts/report_grid.py --grid`")
    b.download_button("Download MD", tiles_markdown(state, rows, snapshot), file_name="report_grid.md",
                      mime="text/markdown", key="report_md", width="stretch", help="Markdown table")
    st.file_uploader("Load a grid (JSON or CSV)", type=["json", "csv"], key="report_upload",
                     on_change=guarded(on_upload))
    with st.expander("…or paste one"):
        st.text_area("Saved grid", key="report_paste", height=80, label_visibility="collapsed")
        st.button("Load pasted grid", key="report_paste_load", on_click=guarded(on_paste))
    st.caption("The page's link holds the grid too: a refresh or a shared link brings it back.")


st.title("Report grid")
snapshot = snapshot_ui(roots.checkpoints)
if snapshot is None:
    st.info("Choose a usable snapshot in the sidebar to build the grid.")
    st.stop()

with shown_errors("The report grid"):
    generator = loaders.load_generator(snapshot)
    rows, notes = checked_rows(generator.vocab)
    controls_ui(generator.can_rank)
    if problem := st.session_state.pop(PROBLEM_KEY, None):
        st.info(problem)
    left, right = st.columns([3, 2])
    with left:
        png, images = preview(state, rows, lambda: render(snapshot, state.to_json(),
                                                          tuple((row.test_id, row.caption) if isinstance(row, GridRow)
                                                                else None for row in rows)), roots)
        if notes:
            st.caption(" ".join(notes))
    with right:
        cell_tab, cols_tab, rows_tab, file_tab, more_tab = st.tabs(["Cell", "Columns", "Rows", "Save / load",
                                                                     "More"])
        with cell_tab:
            cell_ui(rows)
        with cols_tab:
            columns_ui()
        with rows_tab:
            rows_ui(rows)
        with file_tab:
            file_ui(rows, png, display_path(snapshot, roots.checkpoints))
        with more_tab:
            extras_ui(state, rows, images, snapshot, roots, generator.can_rank)
    st.subheader("Rebuild it")
    st.caption("One line per cell (Download CSV): `python scripts/report_grid.py --checkpoint SNAPSHOT --grid "
               "report_grid.csv --out grid.png` draws the same PNG, pixel for pixel.")
    st.dataframe(exports.grid_table(state, rows), hide_index=True, key="report_table")
    sync_query(state, st.query_params)

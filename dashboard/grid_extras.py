"""The report grid page's preview (the exact PNG Download PNG saves) and its optional extras: the real
test image column, each cell's competition cosine to the real image, and fills of the unlocked cells
with the best of K seeds by the GAN's own D or (labelled so) by the flowers evaluator."""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from dashboard import loaders
from gan_core import UserError
from gan_core.explore.report_grid import GridRow

PNG_DIGEST_KEY = "report_png_sha256"  # session: sha256 of the PNG Download PNG saves
COSINE_KEY = "report_cosine"  # session: (snapshot, state JSON) -> cosine [R, C] (nan: not a test-ID row)


def _real(rows, roots):
    from gan_core.explore.report_grid import real_images

    return real_images(loaders.load_dataset(str(roots.data)), rows)


def preview(state, rows, render, roots) -> tuple[bytes | None, np.ndarray | None]:
    """Draw the export PNG of the drawable rows (bad rows named above it). -> (PNG bytes, images)."""
    from gan_core.explore.report_grid import compose_report
    from gan_core.sample.image_grid import to_png

    bad = [f"Row {r + 1}: {row}" for r, row in enumerate(rows) if isinstance(row, UserError)]
    if bad:
        st.error("\n".join(f"- {b}" for b in bad) + "\n\nThe other rows still draw; fix the row in the Rows tab.")
    if len(bad) == len(rows):
        return None, None
    images = render()
    real = _real(rows, roots) if state.real_column else None
    png = to_png(compose_report(state, rows, images, real))
    st.session_state[PNG_DIGEST_KEY] = hashlib.sha256(png).hexdigest()  # lets a test compare the CLI's PNG
    st.image(png, width="stretch", caption="The PNG that Download PNG saves"
             + (" (rows with errors left out)" if bad else ""))
    return png, images


def _unlocked_cells(state, rows, ids_only: bool = False) -> list[tuple[int, int]]:
    R, C = state.shape
    return [(r, c) for r in range(R) for c in range(C) if isinstance(rows[r], GridRow) and not state.locked(r, c)
            and (rows[r].test_id is not None or not ids_only)]


def _fill(state, rows, snapshot, k: int, scorer) -> int:
    from gan_core.explore.grid_fill import pick_seeds

    cells = _unlocked_cells(state, rows, ids_only=scorer is not None)
    if not cells:
        return 0
    candidates = [state.new_seeds(k) for _ in cells]  # counted: these seeds are never offered again
    captions = [rows[r].caption for r, _ in cells]
    score = None if scorer is None else (lambda images, where: scorer(images, [rows[cells[n][0]].test_id
                                                                               for n in where]))
    picks = loaders.sampler_pool().run(snapshot, lambda g: pick_seeds(g, captions, candidates, state.psi,
                                                                      state.best_of, score))
    return state.fill(dict(zip(cells, picks)), "evaluator" if scorer is not None else "gan_d")


def _evaluator(roots):
    if not (roots.flowers_evaluator / "weights.npz").is_file():
        raise UserError(f"no flowers evaluator at {roots.flowers_evaluator}")
    return loaders.load_evaluator(str(roots.flowers_evaluator))


def _note(message: str) -> None:
    from dashboard.grid_state import PROBLEM_KEY

    st.session_state[PROBLEM_KEY] = message


def _fill_by_d(state, rows, snapshot) -> None:
    k = int(st.session_state["report_fill_k"])
    try:
        _note(f"{_fill(state, rows, snapshot, k, None)} unlocked cell(s) filled with the best of {k} seeds by the "
              f"GAN's D.")
    except UserError as exc:
        _note(str(exc))


def _fill_by_evaluator(state, rows, snapshot, roots) -> None:
    from gan_core.explore.grid_fill import cosine_to_real

    k = int(st.session_state["report_fill_k"])
    try:
        evaluator = _evaluator(roots)
        count = _fill(state, rows, snapshot, k, lambda im, ids: -cosine_to_real(evaluator, im, ids))
        _note(f"{count} unlocked test-ID cell(s) filled with the evaluator-picked best of {k} seeds.")
    except UserError as exc:
        _note(str(exc))


def extras_ui(state, rows, images, snapshot: str, roots, can_rank: bool) -> None:
    st.session_state["report_real"] = state.real_column
    st.toggle("Real test image as the last column", key="report_real",
              on_change=lambda: state.set_real_column(st.session_state["report_real"]),
              help="Test-ID rows show their real image; free captions a blank tile. Part of the PNG.")
    k_col, d_col = st.columns([1, 2], vertical_alignment="bottom")
    k_col.number_input("K seeds", 2, 32, 8, key="report_fill_k")
    d_col.button("Fill unlocked: best of K by D", key="report_fill_d", disabled=not can_rank,
                 on_click=_fill_by_d, args=(state, rows, snapshot),
                 help="Each unlocked cell gets, of K new seeds, the one the GAN's own discriminator rates highest "
                      "for its caption" + ("" if can_rank else " (this snapshot holds no D)"))
    st.button("Fill unlocked test-ID cells: evaluator-picked", key="report_fill_eval",
              on_click=_fill_by_evaluator, args=(state, rows, snapshot, roots),
              help="Of K new seeds, the one whose image the flowers evaluator finds closest to the real test image "
                   "(lowest competition cosine). Manual curation: marked evaluator-picked in the CSV.")
    key = (snapshot, state.to_json())
    if st.button("Competition cosine per cell", key="report_cosine_go", disabled=images is None,
                 help="The competition's per-image term: cosine distance between the flowers evaluator's logits of "
                      "the cell and of its real test image (lower is better; test-ID rows only)"):
        from gan_core.explore.grid_fill import cosine_to_real

        evaluator = _evaluator(roots)
        table = np.full(state.shape, np.nan)
        for r, row in enumerate(rows):
            if isinstance(row, GridRow) and row.test_id is not None and row.test_id in evaluator.references:
                table[r] = cosine_to_real(evaluator, images[r], [row.test_id] * state.shape[1])
        st.session_state[COSINE_KEY] = (key, table)
    saved = st.session_state.get(COSINE_KEY)
    if saved and saved[0] == key:
        import pandas as pd

        frame = pd.DataFrame(saved[1], index=[f"row {r + 1}" for r in range(state.shape[0])],
                             columns=[f"col {c + 1}" for c in range(state.shape[1])])
        st.dataframe(frame.style.format("{:.3f}", na_rep="–"), key="report_cosine_table")
        st.caption("Competition cosine term per cell (lower is better); – : not a test-ID row.")

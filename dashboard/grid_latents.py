"""Latent files in the report grid: save a cell's z (its seed's noise, or the latent it holds) as a
latent file (gan_core.explore.latents), and load one into a cell, for example a projected z. The grid
draws every cell with its row's caption, so a latent whose sentence code was optimised is refused."""

from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard.projector_data import noise_dim, seed_noise, snapshot_digest
from gan_core import UserError
from gan_core.explore import latents
from gan_core.explore.report_grid import GridRow

UPLOAD_KEY = "report_latent_upload"


def cell_latent(snapshot: str, cell) -> np.ndarray:
    """float32 [noise_dim]: the z a cell is drawn from before psi (its latent, else its seed's noise)."""
    if cell.latent is not None:
        return np.asarray(cell.latent, np.float32)
    return seed_noise(snapshot, [cell.seed])[0]


def load_into_cell(state, snapshot: str, r: int, c: int, text: bytes, name: str) -> str:
    """-> the message for the page; a UserError for a file that cannot go into the cell."""
    latent = latents.from_json(text, noise_dim(snapshot))
    if latent.sentence is not None:
        raise UserError(f"{name} holds an optimised sentence code; the grid draws each row's own caption, so "
                        f"open it on Generate & interpolate or the Projector instead")
    if not state.set_latent(r, c, latent.z, seed=state.cells[r][c].seed, psi=latent.psi):
        return f"Row {r + 1}, column {c + 1} is locked: unlock it to load {name}."
    note = latents.note(latent, snapshot_digest(snapshot))
    return f"Loaded {name} into row {r + 1}, column {c + 1} (ψ {latent.psi:g})." + (f" It was {note}." if note else "")


def latent_ui(state, rows, snapshot: str, r: int, c: int, note) -> None:
    """Save the selected cell's latent; load a latent file into it (`note` shows a message)."""
    cell, row = state.cells[r][c], rows[r]
    savable = isinstance(row, GridRow) and cell.best_of == 1
    data = b""
    if savable:
        data = latents.to_json(latents.Latent(cell_latent(snapshot, cell), row.caption, cell.psi,
                                              snapshot_digest(snapshot), source=f"report grid seed {cell.seed}"))
    st.download_button("Save this cell's latent", data, file_name=f"latent_row{r + 1}_col{c + 1}.json",
                        mime="application/json", key="report_latent_save", disabled=not savable, width="stretch",
                        help="JSON: z, the row's caption, ψ and the snapshot's digest; loads back here, on "
                             "Generate & interpolate and in `scripts/generate.py --latents`" if savable else
                        "A best-of-N cell is one of N candidates: set Best of N to 1 to save its latent"
                        if isinstance(row, GridRow) else "Fix this row first")

    def on_upload():
        uploaded = st.session_state.get(UPLOAD_KEY)
        if uploaded is None:
            return
        try:
            note(load_into_cell(state, snapshot, r, c, uploaded.getvalue(), uploaded.name))
        except UserError as exc:
            note(str(exc))

    st.file_uploader("Load a latent file into this cell", type=["json"], key=UPLOAD_KEY, on_change=on_upload,
                     disabled=state.locked(r, c), help="A latent file saved here, on Generate or by the Projector")

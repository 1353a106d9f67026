"""Latent files in the report grid, on the shipped snapshot: a cell saved as a latent file and loaded
into another cell of the same caption draws the same pixels; locks hold; a file of another noise size
or with an optimised sentence code is one line."""

from pathlib import Path

import numpy as np
import pytest

from gan_core import UserError
from gan_core.explore import latents
from gan_core.explore.grid_state import GridState
from gan_core.explore.report_grid import GridRow, render_cells

SNAP = str(Path(__file__).resolve().parents[1] / "checkpoints" / "default" / "snapshots" / "epoch_0270")
CAPTION = "this flower has long yellow petals with a black center"


@pytest.fixture(scope="module")
def sampler():
    from gan_core.sample.sampler import Sampler

    return Sampler.load(SNAP)


def test_a_saved_cell_loads_into_another_cell_and_draws_the_same_pixels(sampler):
    from dashboard import grid_latents

    state = GridState.default(ids=[1, 2], seeds=(3, 4, 5))
    state.set_row(0, CAPTION)
    state.set_row(1, CAPTION)
    state.set_sampling(psi=0.8)
    z = grid_latents.cell_latent(SNAP, state.cells[0][0])
    assert np.array_equal(z, sampler.noise([3])[0])
    text = latents.to_json(latents.Latent(z, CAPTION, state.cells[0][0].psi, latents.snapshot_digest(SNAP)))
    message = grid_latents.load_into_cell(state, SNAP, 1, 2, text.encode(), "cell.json")
    assert message.startswith("Loaded cell.json into row 2, column 3 (ψ 0.8)")
    cell = state.cells[1][2]
    assert cell.latent is not None and np.array_equal(np.asarray(cell.latent, np.float32), z) and cell.psi == 0.8
    rows = [GridRow(r, None, CAPTION) for r in range(2)]
    images = render_cells(sampler, state, rows)
    np.testing.assert_array_equal(images[1, 2], images[0, 0])  # the latent path draws the seed's pixels
    # the grid's own round trip keeps the latent bit for bit
    again = GridState.from_json(state.to_json())
    assert np.array_equal(np.asarray(again.cells[1][2].latent, np.float32), z)


def test_locks_and_bad_files(sampler):
    from dashboard import grid_latents

    state = GridState.default(ids=[1], seeds=(0, 1))
    z = sampler.noise([9])[0]
    state.lock_cell(0, 1, True)
    text = latents.to_json(latents.Latent(z, CAPTION)).encode()
    assert "is locked" in grid_latents.load_into_cell(state, SNAP, 0, 1, text, "a.json")
    assert state.cells[0][1].latent is None
    short = latents.to_json(latents.Latent(z[:50], CAPTION)).encode()
    with pytest.raises(UserError, match="50 noise values but this snapshot's noise has 100"):
        grid_latents.load_into_cell(state, SNAP, 0, 0, short, "short.json")
    coded = latents.to_json(latents.Latent(z, CAPTION, sentence=np.ones(256, np.float32))).encode()
    with pytest.raises(UserError, match="optimised sentence code"):
        grid_latents.load_into_cell(state, SNAP, 0, 0, coded, "coded.json")
    with pytest.raises(UserError, match="not a latent file"):
        grid_latents.load_into_cell(state, SNAP, 0, 0, b"{oops", "bad.json")
    assert state.cells[0][0].latent is None

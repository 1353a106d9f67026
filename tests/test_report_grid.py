"""scripts/report_grid.py on a tiny run: PNG layout, tiles equal to Sampler.grid, CSV/MD, errors."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image

from gan_core import UserError
from gan_core.data.dataset import PreparedDataset
from gan_core.explore.report_grid import grid_rows, tile_size
from gan_core.sample.sampler import Sampler
from scripts import report_grid as report_grid_script


@pytest.fixture(scope="module")
def world(tiny_run):
    """The session's tiny run and its prepared data (read only)."""
    return SimpleNamespace(run=tiny_run[0], data=tiny_run[1])


def run(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "report_grid.py"), *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


@pytest.mark.slow
def test_grid_png_csv_and_markdown(world, tmp_path):
    """The script's one real subprocess run (the error cases call its main in-process)."""
    dataset = PreparedDataset(world.data)
    ids = dataset.test_captions["ID"].astype(int).tolist()[:4]
    out = tmp_path / "grid.png"
    result = run("--checkpoint", world.run, "--ids", ",".join(map(str, ids)), "--seeds", "0,1,2,3,4",
                 "--caption", "a blue flower with round petals", "--data", world.data, "--out", out)
    assert result.returncode == 0, result.stderr
    image = np.asarray(Image.open(out).convert("RGB"))
    assert (image.shape[1], image.shape[0]) == tile_size((64, 64), rows=5, cols=5)

    with open(out.with_suffix(".csv"), newline="") as handle:
        tiles = list(csv.DictReader(handle))
    assert len(tiles) == 25 and list(tiles[0]) == ["row", "column", "id", "caption", "seed", "truncation", "best_of"]
    assert {t["truncation"] for t in tiles} == {"1"}
    assert [t["id"] for t in tiles[::5]] == [str(i) for i in ids] + [""]
    assert tiles[0]["caption"] == dataset.test_caption(ids[0]) and tiles[-1]["seed"] == "4"
    assert "a blue flower with round petals" in out.with_suffix(".md").read_text()

    # The CSV rebuilds the grid exactly: tile (row 2, column 3) is Sampler.grid's image, scaled x2.
    captions = [t["caption"] for t in tiles[::5]]
    rebuilt = Sampler.load(world.run).grid(captions, [int(t["seed"]) for t in tiles[:5]])
    left, top, pad, scale = 260, 18, 4, 2
    x, y = left + pad + 3 * (64 * scale + pad), top + pad + 2 * (64 * scale + pad)
    tile = image[y:y + 128, x:x + 128]
    np.testing.assert_array_equal(tile[::2, ::2], rebuilt[2, 3])


def test_rows_and_user_errors(world, tmp_path, capsys):
    dataset = PreparedDataset(world.data)
    rows = grid_rows(dataset, [int(dataset.test_captions["ID"][0])], ["free text"])
    assert [r.row for r in rows] == [0, 1] and rows[1].test_id is None and rows[1].label.startswith("(free)")
    with pytest.raises(UserError, match="at least one"):
        grid_rows(dataset, [], [])

    def cli_error(*args) -> str:
        argv = [*map(str, args), "--data", str(world.data), "--out", str(tmp_path / "g.png")]
        assert report_grid_script.main(argv) == 1, args
        captured = capsys.readouterr()
        lines = captured.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
        return lines[0]

    assert "test ID 123456 is not among" in cli_error("--checkpoint", world.run, "--ids", "123456")
    assert "checkpoint not found" in cli_error("--checkpoint", tmp_path / "missing", "--ids", "1")
    assert "--seeds must be comma-separated integers" in cli_error("--checkpoint", world.run, "--seeds", "a,b")
    assert not list(tmp_path.glob("g*"))

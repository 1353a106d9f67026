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
from dashboard_fixtures import app_env, workspace  # noqa: F401  (pytest fixtures)
from PIL import Image

from gan_core import UserError
from gan_core.data.dataset import PreparedDataset
from gan_core.explore.report_grid import CSV_FIELDS, grid_rows, tile_size
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
    assert len(tiles) == 25 and tuple(tiles[0]) == CSV_FIELDS
    assert {t["truncation"] for t in tiles} == {"1"} and [t["row"] for t in tiles[::5]] == ["1", "2", "3", "4", "5"]
    assert [t["test_id"] for t in tiles[::5]] == [str(i) for i in ids] + [""]
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

    assert "row 1: test ID 123456 is not among" in cli_error("--checkpoint", world.run, "--ids", "123456")
    assert "checkpoint not found" in cli_error("--checkpoint", tmp_path / "missing", "--ids", "1")
    assert "--seeds must be comma-separated integers" in cli_error("--checkpoint", world.run, "--seeds", "a,b")
    (tmp_path / "bad.json").write_text('{"format": "gan_core.report_grid/1", "rows": ["1"]}')
    assert "bad.json: a report grid state needs lists" in cli_error("--checkpoint", world.run, "--grid",
                                                                     tmp_path / "bad.json")
    assert "grid file not found" in cli_error("--checkpoint", world.run, "--grid", tmp_path / "none.csv")
    assert not list(tmp_path.glob("g*"))


@pytest.mark.slow
def test_cli_rebuilds_a_dashboard_grid_with_mixed_seeds_pixel_for_pixel(app_env, tmp_path):  # noqa: F811
    """The dashboard's export (the page's own PNG, through AppTest) equals `report_grid.py --grid` of
    its saved JSON (a subprocess) and of its CSV, byte for byte."""
    import hashlib

    from dashboard_fixtures import ROOT as APP_ROOT
    from streamlit.testing.v1 import AppTest

    from dashboard.grid_extras import PNG_DIGEST_KEY
    from dashboard.grid_state import KEY
    from gan_core.explore.report_grid import resolve_rows, tiles_csv

    dataset = PreparedDataset(app_env.data)
    ids = [int(i) for i in dataset.test_captions["ID"]][:4]
    at = AppTest.from_file(str(APP_ROOT / "dashboard" / "app.py"), default_timeout=240)
    at.run()
    at.switch_page("views/report_grid.py").run()
    for r, test_id in enumerate(ids):
        at.text_input(key=f"report_row_{r}").set_value(str(test_id)).run()
    at.text_input(key="report_row_4").set_value("a flower with yellow petals").run()
    at.selectbox(key="cell_row").set_value(1).run()
    at.selectbox(key="cell_col").set_value(2).run()
    at.number_input(key="cell_seed").set_value(12).run()  # typed
    at.toggle(key="cell_lock").set_value(True).run()
    at.button(key="reroll_all").click().run()  # re-rolled around the locked cell: column 3 is mixed
    at.slider(key="report_psi").set_value(0.8).run()  # the locked cell keeps psi 1
    at.toggle(key="report_real").set_value(True).run()
    assert not at.exception and not at.error
    state = at.session_state[KEY]
    assert not state.column_uniform(2) and state.cells[1][2].seed == 12 and state.cells[0][2].psi == 0.8
    digest = at.session_state[PNG_DIGEST_KEY]
    (tmp_path / "grid.json").write_text(state.to_json())  # what Save grid (JSON) downloads
    (tmp_path / "grid.csv").write_text(tiles_csv(state, resolve_rows(state, dataset.test_caption)))  # Download CSV
    snapshot = app_env.tiny_run / "snapshots" / "epoch_0002"
    (tmp_path / "from_json").mkdir()
    result = run("--checkpoint", snapshot, "--grid", tmp_path / "grid.json", "--data", app_env.data,
                 "--out", tmp_path / "from_json" / "grid.png")
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256((tmp_path / "from_json" / "grid.png").read_bytes()).hexdigest() == digest
    assert report_grid_script.main(["--checkpoint", str(snapshot), "--grid", str(tmp_path / "grid.csv"),
                                    "--real-column", "--data", str(app_env.data),
                                    "--out", str(tmp_path / "from_csv.png")]) == 0
    assert hashlib.sha256((tmp_path / "from_csv.png").read_bytes()).hexdigest() == digest
    rebuilt = list(csv.DictReader(open(tmp_path / "from_csv.csv", newline="")))
    assert [t["seed"] for t in rebuilt] == [str(c.seed) for row in state.cells for c in row]

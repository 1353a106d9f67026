"""Truncation psi end to end on a tiny trained run: the Sampler, generate.py's record, the report grid's
CSV/Markdown (which must rebuild the grid exactly) and the evaluation cache key."""

import csv
import io
import json

import numpy as np
import pytest
from test_generation import gen, run  # noqa: F401  (the tiny trained run and its Sampler)

from gan_core import UserError
from gan_core.data.imagefolder import load_image_folder
from gan_core.sample.sampler import check_truncation, seed_noise
from scripts import generate, report_grid


def test_psi_scales_the_noise_and_one_changes_nothing(gen):
    np.testing.assert_array_equal(gen.noise([3, 4], 1.0), seed_noise([3, 4], gen.noise_dim))
    np.testing.assert_allclose(gen.noise([3, 4], 0.7), 0.7 * seed_noise([3, 4], gen.noise_dim), rtol=1e-6)
    captions = ["a red flower", "a yellow flower"]
    plain = gen.generate(captions, [0, 1])
    assert np.array_equal(gen.generate(captions, [0, 1], 1.0), plain)
    assert not np.array_equal(gen.generate(captions, [0, 1], 0.5), plain)
    # the grid and the pairs agree under any psi: the grid is rebuildable from (caption, seed, psi)
    grid = gen.grid(captions, [5, 6], 0.8)
    assert np.array_equal(grid[1, 0], gen.generate([captions[1]], [5], 0.8)[0])
    # lower psi pulls seeds together: images of different seeds differ less
    spread = {psi: np.abs(np.diff(gen.generate(["a red flower"] * 6, list(range(6)), psi).astype(float), axis=0)).mean()
              for psi in (1.0, 0.3)}
    assert spread[0.3] < spread[1.0]


@pytest.mark.parametrize("psi", [0.0, -0.5, 1.5, float("nan")])
def test_psi_outside_zero_one_is_refused(psi):
    with pytest.raises(UserError, match="truncation psi must be in"):
        check_truncation(psi)


def test_generate_records_psi_and_the_scorer_ignores_the_record(run, tmp_path, capsys):
    run_dir, data = run
    out = tmp_path / "inference"
    assert generate.main(["--checkpoint", str(run_dir), "--test-captions", str(data / "test_captions.csv"),
                          "--out", str(out), "--truncation", "0.8"]) == 0
    record = json.loads((out / "generation.json").read_text())
    assert record["truncation"] == 0.8 and record["mode"] == "competition" and record["seed"] == 0
    images, ids, _, problems = load_image_folder(out)
    assert not problems and len(ids) == record["images"]
    assert "truncation 0.8" in capsys.readouterr().out
    assert generate.main(["--checkpoint", str(run_dir), "--test-captions", str(data / "test_captions.csv"),
                          "--out", str(tmp_path / "bad"), "--truncation", "2"]) == 1
    assert "truncation psi must be in (0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_report_grid_records_psi_and_rebuilds_exactly(run, tmp_path, gen):
    run_dir, data = run
    out = tmp_path / "grid.png"
    ids = [int(line.split(",")[0]) for line in (data / "test_captions.csv").read_text().splitlines()[1:3]]
    assert report_grid.main(["--checkpoint", str(run_dir), "--data", str(data), "--ids", ",".join(map(str, ids)),
                             "--seeds", "0,7", "--truncation", "0.75", "--out", str(out)]) == 0
    tiles = list(csv.DictReader(io.StringIO(out.with_suffix(".csv").read_text())))
    assert {t["truncation"] for t in tiles} == {"0.75"}
    markdown = out.with_suffix(".md").read_text()
    assert "psi 0.75 and best of 1" in markdown and markdown.count("ψ0.75") == 4  # the header and every cell
    # rebuild from the CSV alone: same pixels as the grid's own tiles
    rebuilt = gen.generate([t["caption"] for t in tiles], [int(t["seed"]) for t in tiles],
                               float(tiles[0]["truncation"]))
    direct = gen.grid([tiles[0]["caption"], tiles[2]["caption"]], [0, 7], 0.75).reshape(4, 64, 64, 3)
    assert np.array_equal(rebuilt, direct)

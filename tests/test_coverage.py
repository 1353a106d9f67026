"""Coverage: the per-class choice of test images, the report's numbers and files, and the CLI
(one image and a short coverage pass) on the shipped snapshots and the prepared data."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_core.explore import coverage

ROOT = Path(__file__).resolve().parents[1]
SNAPS = ROOT / "checkpoints" / "default" / "snapshots"


def rows(classes_and_reachable):
    return [{"epoch": 1, "row": i, "image_id": i, "test_id": i, "class_id": c, "caption": "x", "real_class": c,
             "projected_class": c if ok else 0, "reachable": ok, "feature_distance": d, "pixel_l1": 0.1, "loss": 0.2}
            for i, (c, ok, d) in enumerate(classes_and_reachable)]


def test_per_class_table_puts_the_worst_first_and_csv_has_one_row_per_image():
    table = coverage.per_class_table(rows([(1, True, 0.1), (1, False, 0.3), (2, False, 0.5), (3, True, 0.1)]))
    assert [(t["class_id"], t["reachable"]) for t in table] == [(2, 0.0), (1, 0.5), (3, 1.0)]
    parsed = list(csv.DictReader(io.StringIO(coverage.csv_text(rows([(1, True, 0.1), (2, False, 0.2)])))))
    assert len(parsed) == 2 and tuple(parsed[0]) == coverage.FIELDS


def test_cosine_distance_and_chart():
    a = np.array([[1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(coverage.cosine_distance(a, np.array([[0.0, 2.0], [2.0, 2.0]])), [1.0, 0.0], atol=1e-6)
    result = {"classes": coverage.per_class_table(rows([(1, True, 0.1), (2, False, 0.5)])),
              "summary": {"reachable": 0.5, "images": 2}}
    png = coverage.bar_chart_png([result, result], ["epoch 60", "epoch 270"])
    assert Image.open(io.BytesIO(png)).size[0] >= 720


def test_pick_images_takes_per_class_test_images_with_their_own_captions(real_data):
    data = real_data
    from gan_core.data.dataset import PreparedDataset, load_class_ids

    dataset = PreparedDataset(data)
    picked = coverage.pick_images(dataset, 3, seed=0)
    counts = np.bincount(picked["class_ids"])
    assert len(np.unique(picked["class_ids"])) == 102 and counts.max() == 3
    assert set(picked["rows"]) <= set(dataset.test_rows)
    assert np.array_equal(load_class_ids(data)[picked["rows"]], picked["class_ids"])
    assert picked["captions"][0] == dataset.test_caption(int(picked["test_ids"][0]))
    assert np.array_equal(coverage.pick_images(dataset, 3, seed=0)["rows"], picked["rows"])  # seeded


def run_project(*args):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # the script's own quiet default
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "project.py"), *map(str, args)],
                          capture_output=True, text=True, check=False, env=env)


@pytest.mark.slow
def test_cli_one_image_and_a_short_coverage_pass(tmp_path, real_data):
    data = real_data
    from gan_core.data.dataset import PreparedDataset

    Image.fromarray(np.asarray(PreparedDataset(data).images(64)[22])).save(tmp_path / "t.png")
    snap = tmp_path / "epoch_0270"  # a copy: the coverage cache lands next to it, not in checkpoints/
    import shutil

    shutil.copytree(SNAPS / "epoch_0270", snap, ignore=shutil.ignore_patterns("coverage_*", "directions_*"))
    run = run_project("--checkpoint", snap, "--caption", "a white flower", "--target", tmp_path / "t.png",
                      "--out", tmp_path / "one", "--steps", 20)
    assert run.returncode == 0, run.stderr
    assert {p.name for p in (tmp_path / "one").iterdir()} == {"projection.png", "projection.gif", "latent.json",
                                                              "projection.json"}
    assert json.loads((tmp_path / "one" / "latent.json").read_text())["source"] == "projector"
    run = run_project("--checkpoint", snap, "--data", data, "--coverage", "--per-class", 1, "--steps", 2,
                      "--out", tmp_path / "cov")
    assert run.returncode == 0, run.stderr
    with open(tmp_path / "cov" / "coverage.csv") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 102 and {r["epoch"] for r in table} == {"270"}
    assert Image.open(tmp_path / "cov" / "coverage.png").format == "PNG"
    assert len(coverage.cached(snap)) == 1  # what the dashboard's coverage tab reads
    # one-line refusals before any model loads
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("x")
    for args in (["--checkpoint", snap, "--caption", "x", "--target", tmp_path / "t.png", "--out", tmp_path / "mine"],
                 ["--checkpoint", snap, "--caption", "x", "--target", tmp_path / "nope.png", "--out", tmp_path / "o"],
                 ["--checkpoint", snap, "--coverage", "--out", tmp_path / "o"],
                 ["--checkpoint", snap, "--data", data, "--coverage", "--out", snap]):
        run = run_project(*args)
        assert run.returncode == 1 and run.stderr.startswith("error:") and run.stderr.count("\n") == 1, run.stderr

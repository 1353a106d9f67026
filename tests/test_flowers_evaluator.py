"""The flowers evaluator trained for real on the tiny synthetic set; save/load; user errors.

`tiny_world` is shared with the other score tests (alignment, evaluation, report grid): one tiny
data set, one tiny evaluator, one tiny alignment model and one tiny GAN run per session.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from tiny import tiny_dataset

from gan_core import UserError, storage
from gan_core.data.dataset import PreparedDataset, load_class_ids
from gan_core.eval.evaluators import get_evaluator
from gan_core.eval.evaluators.flowers import (
    DEFAULT_PATH,
    FlowersConfig,
    load_flowers_evaluator,
    topk_accuracy,
    train_flowers_evaluator,
)

TINY_FLOWERS = FlowersConfig(width=8, epochs=3, batch_size=8, lr=3e-3)
pytestmark = pytest.mark.slow  # trains the tiny evaluator


@dataclass
class TinyWorld:
    data: Path
    flowers: Path
    flowers_metrics: dict
    alignment: Path | None = None
    alignment_metrics: dict | None = None
    run: Path | None = None


def tiny_world(tmp_path_factory, alignment: bool = False, run: bool = False) -> TinyWorld:
    """The session's tiny data (20 images per colour class, 8 test), evaluator, and on request the
    alignment model and a tiny GAN run; each is built once per session and shared by the xdist
    workers (the first to ask builds it under a lock, the others wait). Tests that need to see
    caches computed for the first time work on copies (see test_realism_wiring.py)."""
    import json

    from conftest import session_lock

    with session_lock(tmp_path_factory, "scores_world") as session:
        root = session / "scores_world"
        root.mkdir(exist_ok=True)
        data = root / "data"
        if not (root / "flowers_metrics.json").is_file():
            tiny_dataset(root, per_class=20)
            dataset = PreparedDataset(data)
            classes = load_class_ids(data)
            # Fake "official" logits whose argmax is the true class: agreement must equal top-1.
            official = {int(t): np.eye(102, dtype=np.float32)[classes[r] - 1] * 5.0
                        for r, t in zip(dataset.test_rows, dataset.image_table.loc[dataset.test_rows, "test_id"])}
            (root / "eval_metrics.pkl").write_bytes(pickle.dumps(official))
            metrics = train_flowers_evaluator(data, root / "flowers", TINY_FLOWERS, log=lambda m: None,
                                              official_references=root / "eval_metrics.pkl")
            (root / "flowers_metrics.json").write_text(json.dumps(metrics))
        if alignment and not (root / "alignment_metrics.json").is_file():
            from gan_core.eval.alignment import AlignmentConfig, train_alignment

            config = AlignmentConfig(embed_dim=16, hidden=16, image_width=8, epochs=4, batch_size=16, seed=3)
            metrics = train_alignment(data, root / "alignment", config, log=lambda m: None)
            (root / "alignment_metrics.json").write_text(json.dumps(metrics))
        if run and not (root / "run.done").is_file():
            from tiny import tiny_config

            from gan_core.train.loop import train

            train(data, root / "run", tiny_config(epochs=1), log=lambda m: None, progress=False)
            (root / "run.done").write_text("")
    world = TinyWorld(data, root / "flowers", json.loads((root / "flowers_metrics.json").read_text()))
    if alignment:
        world.alignment = root / "alignment"
        world.alignment_metrics = json.loads((root / "alignment_metrics.json").read_text())
    if run:
        world.run = root / "run"
    return world


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return tiny_world(tmp_path_factory)


def test_tiny_evaluator_beats_chance_and_reports_metrics(world):
    m = world.flowers_metrics
    assert m["test_images"] == 8 and m["train_images"] == 72
    assert m["test_top1"] >= 0.75  # 4 colour classes: chance is 0.25
    assert m["test_top5"] >= m["test_top1"]
    assert m["official_agreement_top1"] == pytest.approx(m["test_top1"]) and m["official_agreement_images"] == 8
    assert m["params"] > 0 and m["seconds"] > 0 and len(m["history"]) == TINY_FLOWERS.epochs
    assert sorted(p.name for p in world.flowers.iterdir()) == ["config.json", "metrics.json", "references.npz",
                                                              "weights.npz"]


def test_load_round_trip_references_and_batching(world):
    evaluator = get_evaluator("flowers", checkpoint=world.flowers)
    assert evaluator.name == "flowers" and evaluator.num_classes == 102
    assert evaluator.config == TINY_FLOWERS
    assert evaluator.identity == storage.file_identity(world.flowers / "weights.npz")
    dataset = PreparedDataset(world.data)
    real = np.asarray(dataset.images(64))[dataset.test_rows].astype(np.float32)
    ids = dataset.image_table.loc[dataset.test_rows, "test_id"].astype(int)
    logits, features = evaluator.predict(real)
    assert logits.dtype == np.float32 and logits.shape == (8, 102) and features.shape == (8, 8 * TINY_FLOWERS.width)
    stored = np.stack([evaluator.references[i] for i in ids])
    np.testing.assert_allclose(logits, stored, atol=1e-4)  # references are the saved model's own logits
    classes = load_class_ids(world.data)[dataset.test_rows] - 1
    assert topk_accuracy(logits, classes, 1) == pytest.approx(world.flowers_metrics["test_top1"])
    evaluator.batch_size = 3  # batches that do not divide N give the same numbers
    np.testing.assert_allclose(evaluator.predict(real)[0], logits, atol=1e-4)


def test_missing_or_corrupt_model_is_a_user_error(world, tmp_path):
    with pytest.raises(UserError, match="train_evaluator.py"):
        load_flowers_evaluator(tmp_path / "nothing")
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "references.npz"):
        (broken / name).write_bytes((world.flowers / name).read_bytes())
    (broken / "weights.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="corrupt"):
        load_flowers_evaluator(broken)
    assert DEFAULT_PATH == ROOT / "checkpoints" / "evaluator" / "flowers"


def test_training_cli_user_error_is_one_line(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_evaluator.py"), "--data",
                             str(tmp_path / "missing"), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith(("W0", "I0", "E0"))]
    assert len(lines) == 1 and lines[0].startswith("error: no prepared dataset"), result.stderr
    assert not (tmp_path / "out").exists()

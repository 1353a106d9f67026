"""The realism numbers wired into scoring, on the tiny world with the real FID Inception network:
evaluate_checkpoint's separate realism cache, scripts/evaluate.py's keys, --no-inception, and the
fewer-than-2-images error."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
from PIL import Image
from test_flowers_evaluator import tiny_world

from gan_core.data.dataset import PreparedDataset
from gan_core.eval import evaluate as evaluation
from gan_core.eval.alignment import load_alignment
from gan_core.eval.evaluators.flowers import load_flowers_evaluator
from gan_core.eval.evaluators.inception_fid import InceptionFeatures
from gan_core.sample.snapshot import resolve_checkpoint
from scripts import evaluate as evaluate_script

pytestmark = pytest.mark.slow  # trains the tiny evaluator; runs the Inception network on ~100 images

REALISM_KEYS = {"fid_inception", "kid_inception", "kid_inception_std", "precision", "recall",
                "saturated_white", "saturated_black"}


class CountingExtractor:
    """The real extractor, counting the images it is asked to embed."""

    def __init__(self):
        self.inner = InceptionFeatures()
        self.identity = self.inner.identity
        self.images = 0

    def features(self, images, **kwargs):
        self.images += len(images)
        return self.inner.features(images, **kwargs)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The session's tiny world with private copies of its data and run, without any caches: the
    counts below see every reference feature and realism entry computed for the first time."""
    shared = tiny_world(tmp_path_factory, alignment=True, run=True)
    root = tmp_path_factory.mktemp("realism_world")
    no_caches = shutil.ignore_patterns("cache", "scores_*.json", "realism_*.json")
    shutil.copytree(shared.data, root / "data", ignore=no_caches)
    shutil.copytree(shared.run, root / "run", ignore=no_caches)
    return dataclasses.replace(shared, data=root / "data", run=root / "run")


def test_checkpoint_realism_is_cached_beside_the_scores(world):
    evaluator, alignment = load_flowers_evaluator(world.flowers), load_alignment(world.alignment)
    extractor = CountingExtractor()
    first = evaluation.evaluate_checkpoint(world.run, world.data, evaluator=evaluator, alignment=alignment,
                                           inception=True, extractor=extractor)
    assert REALISM_KEYS <= set(first) and first["cached"] is False
    assert all(np.isfinite(first[k]) for k in REALISM_KEYS)
    assert 0.0 <= first["precision"] <= 1.0 and 0.0 <= first["recall"] <= 1.0
    dataset = PreparedDataset(world.data)
    tests = len(dataset.test_captions)
    assert extractor.images == len(dataset.train_rows) + tests  # reference set (all of the tiny train) + fakes
    snapshot = resolve_checkpoint(world.run)
    assert len(list(snapshot.glob("realism_*.json"))) == 1

    again = evaluation.evaluate_checkpoint(world.run, world.data, evaluator=evaluator, alignment=alignment,
                                           inception=True, extractor=extractor)
    assert again["cached"] is True and extractor.images == len(dataset.train_rows) + tests  # nothing embedded
    assert {k: again[k] for k in REALISM_KEYS} == {k: first[k] for k in REALISM_KEYS}
    # read back without the network, as the Scores page does on load
    assert {k: v for k, v in evaluation.cached_realism(snapshot, dataset).items() if k in REALISM_KEYS} == \
        {k: first[k] for k in REALISM_KEYS}
    # another psi: another realism entry, the first one untouched
    evaluation.evaluate_checkpoint(world.run, world.data, evaluator=evaluator, alignment=alignment,
                                   inception=True, extractor=extractor, truncation=0.7)
    assert len(list(snapshot.glob("realism_*.json"))) == 2
    assert evaluation.cached_realism(snapshot, dataset)["fid_inception"] == first["fid_inception"]


def test_evaluate_script_keys_and_no_inception(world, tmp_path, capsys):
    out = tmp_path / "real.json"
    assert evaluate_script.main(["--baseline", "real", "--data", str(world.data), "--evaluator-checkpoint",
                                 str(world.flowers), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert REALISM_KEYS <= set(result)
    printed = capsys.readouterr().out
    assert "Inception-FID" in printed and "precision" in printed and "saturated white" in printed
    skipped = tmp_path / "real_skipped.json"
    assert evaluate_script.main(["--baseline", "real", "--data", str(world.data), "--evaluator-checkpoint",
                                 str(world.flowers), "--out", str(skipped), "--no-inception"]) == 0
    plain = json.loads(skipped.read_text())
    assert not {"fid_inception", "precision", "recall"} & set(plain)
    assert {"saturated_white", "saturated_black"} <= set(plain)  # saturation needs no network
    assert plain["saturated_white"] == pytest.approx(result["saturated_white"])


def test_a_folder_of_one_image_is_a_clear_error(world, tmp_path, capsys):
    folder = tmp_path / "one"
    folder.mkdir()
    test_id = int(PreparedDataset(world.data).test_captions["ID"].iloc[0])
    Image.fromarray(np.full((64, 64, 3), 120, np.uint8)).save(folder / f"inference_{test_id}.jpg")
    code = evaluate_script.main(["--images", str(folder), "--data", str(world.data), "--evaluator-checkpoint",
                                 str(world.flowers), "--out", str(tmp_path / "one.json")])
    err = capsys.readouterr().err
    assert code == 1 and "FID is undefined for fewer than 2 images" in err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1
    assert not (tmp_path / "one.json").exists()

"""The evaluation's alignment model, trained for real on the tiny synthetic set; save/load; errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import ROOT
from test_flowers_evaluator import tiny_world

from gan_core import UserError
from gan_core.data.dataset import PreparedDataset, load_class_ids
from gan_core.eval.alignment import DEFAULT_PATH, AlignmentConfig, load_alignment
from gan_core.eval.metrics import caption_cosine

pytestmark = pytest.mark.slow  # trains the tiny alignment model (and the evaluator)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return tiny_world(tmp_path_factory, alignment=True)


def test_saved_model_and_metrics(world):
    m = world.alignment_metrics
    assert sorted(p.name for p in world.alignment.iterdir()) == ["config.json", "metrics.json", "vocab.json",
                                                                "weights.npz"]
    assert json.loads((world.alignment / "metrics.json").read_text()) == m
    assert 0 <= m["test_recall_at_1"] <= 1 and 0 <= m["real_r_precision"] <= 1
    assert m["test_images"] == 8 and m["r_precision_candidates"] == 7 and len(m["losses"]) == 4
    assert AlignmentConfig().seed != 0  # not the GAN's default seed: its own instance


def test_embeddings_match_colours(world):
    """Captions of an image's colour are closer to it than captions of other colours (chance: equal)."""
    model = load_alignment(world.alignment)
    dataset = PreparedDataset(world.data)
    rows = dataset.test_rows
    images = np.asarray(dataset.images(64))[rows].astype(np.float32)
    classes = load_class_ids(world.data)[rows]
    colours = {1: "red", 2: "yellow", 3: "blue", 4: "white"}
    image_emb = model.embed_images(images)
    assert image_emb.shape == (8, 32) and image_emb.dtype == np.float32
    same = model.embed_captions([f"a {colours[c]} flower with {colours[c]} petals" for c in classes])
    other = model.embed_captions([f"a {colours[c % 4 + 1]} flower with {colours[c % 4 + 1]} petals" for c in classes])
    assert caption_cosine(image_emb, same) > caption_cosine(image_emb, other)
    # Batching and reloading do not change embeddings; unknown words are <RARE>, not an error.
    np.testing.assert_allclose(load_alignment(world.alignment).embed_images(images[:3]), image_emb[:3], atol=1e-5)
    assert model.embed_captions(["zzz qqq", "red"]).shape == (2, 32)
    assert model.identity and model.vocab.words == dataset.vocab.words


def test_missing_or_corrupt_model_is_a_user_error(world, tmp_path):
    with pytest.raises(UserError, match="train_alignment.py"):
        load_alignment(tmp_path / "nothing")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "weights.npz").write_bytes((world.alignment / "weights.npz").read_bytes())
    (broken / "config.json").write_text('{"hidden": 64}')  # does not match the weights
    (broken / "vocab.json").write_bytes((world.alignment / "vocab.json").read_bytes())
    with pytest.raises(UserError, match=r"has shape \(\d+, 16\), the model expects \(\d+, \d+\).*train_alignment\.py"):
        load_alignment(broken)
    assert DEFAULT_PATH == ROOT / "checkpoints" / "evaluator" / "alignment"

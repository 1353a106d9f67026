"""The text-alignment term (XMC-GAN style): the pure InfoNCE losses, and real training steps that
train D's projections, push G through them and resume exactly from a saved state."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from test_training import data, make_trainer, steps_then_resume  # noqa: F401
from tiny import tiny_config

from gan_core import UserError
from gan_core.data.dataset import PipelineConfig, PreparedDataset, make_pipeline
from gan_core.train import losses


def test_info_nce_is_low_for_matched_pairs_and_follows_the_positives():
    codes = tf.eye(4) * 3.0 + 0.1
    matched = float(losses.info_nce_pairs(codes, codes, temperature=0.1))
    shuffled = float(losses.info_nce_pairs(codes, tf.roll(codes, 1, axis=0), temperature=0.1))
    assert matched < 1e-3 and shuffled > 5.0
    # Two keys, query equal to key 0: logits (1, 0) / 0.5 -> CE of the right one = log(1 + e^-2).
    q, k = tf.constant([[1.0, 0.0]]), tf.constant([[2.0, 0.0], [0.0, 5.0]])
    assert np.isclose(float(losses.info_nce(q, k, tf.constant([0]), 0.5)), np.log1p(np.exp(-2.0)), atol=1e-6)
    assert np.isclose(float(losses.info_nce(q, k, tf.constant([1]), 0.5)), np.log1p(np.exp(2.0)), atol=1e-5)
    # The per-replica share, as every loss here.
    assert np.isclose(float(losses.info_nce(q, k, tf.constant([1]), 0.5, replicas=2)), np.log1p(np.exp(2.0)) / 2,
                      atol=1e-5)


@pytest.mark.parametrize("field, value", [("contrastive_weight", "-1"), ("contrastive_temperature", "0"),
                                          ("contrastive_dim", "0")])
def test_contrastive_fields_are_checked(field, value):
    with pytest.raises(UserError, match=field):
        tiny_config(**{field: value})
    with pytest.raises(UserError, match="dfgan option"):
        tiny_config(contrastive_weight=1.0, model__arch="dcgan")


@pytest.mark.slow
def test_steps_train_the_projections_and_resume_exactly(data, tmp_path):  # noqa: F811
    config = tiny_config(contrastive_weight=1.0, contrastive_dim=8)
    trainer, restored, path = steps_then_resume(data, config, tmp_path, steps=1, after=2)
    assert any(n.startswith("d_contrast") for n, _ in tf.train.list_variables(path))
    for a, b in zip(trainer.contrast.get_weights(), restored.contrast.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    batch = next(iter(make_pipeline(PreparedDataset(data), PipelineConfig(batch_size=8), 9)))
    before = [w.copy() for w in restored.contrast.get_weights()]
    metrics = restored.train_step(batch)
    assert np.isfinite(metrics["contrast"]) and 0 < metrics["contrast"] < 2 * np.log(8)  # InfoNCE over 8 rows
    assert any(not np.allclose(a, b) for a, b in zip(before, restored.contrast.get_weights()))  # D's projections learn


@pytest.mark.slow
def test_the_g_term_changes_the_generator_update(data):  # noqa: F811
    """Two fresh trainers with the same weights and a frozen D (D's rate 0: D's step cannot differ):
    G's first update differs only if G's loss carries the term."""
    batch = next(iter(make_pipeline(PreparedDataset(data), PipelineConfig(batch_size=8), 0)))
    _, plain = make_trainer(data, tiny_config())
    _, aligned = make_trainer(data, tiny_config(contrastive_weight=1.0, contrastive_dim=8))
    for name in ("generator", "discriminator", "text_encoder"):
        getattr(aligned.networks, name).set_weights(getattr(plain.networks, name).get_weights())
    for trainer in (plain, aligned):
        trainer.opt_d.learning_rate = 0.0
    updates = []
    for trainer in (plain, aligned):
        start = [w.copy() for w in trainer.networks.generator.get_weights()]
        d_start = [w.copy() for w in trainer.networks.discriminator.get_weights()]
        trainer.train_step(batch)
        assert all(np.array_equal(a, b) for a, b in zip(d_start, trainer.networks.discriminator.get_weights()))
        updates.append([b - a for a, b in zip(start, trainer.networks.generator.get_weights())])
    assert any(not np.allclose(a, b, atol=1e-7) for a, b in zip(*updates))

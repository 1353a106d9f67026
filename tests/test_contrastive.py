"""The text-alignment term (XMC-GAN style): the pure InfoNCE losses, and real training steps that
train D's projections, push G through them and resume exactly from a saved state."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from test_training import data, make_trainer, steps_then_resume  # noqa: F401
from tiny import tiny_config

from gan_core import UserError, storage
from gan_core.data.dataset import PipelineConfig, PreparedDataset, make_pipeline
from gan_core.train import carry, losses


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
def test_realism2_additions_in_real_steps_that_resume_exactly(data, tmp_path):  # noqa: F811
    """One traced run of each kind for the Realism II additions (LeCam's means and the model options
    are checked here too, to trace fewer steps):
    1. G's term: two fresh trainers with the same weights and a frozen D (rate 0, so D's step cannot
       differ) give different G updates only if G's loss carries the term.
    2. The aligned trainer trains on, saves its state (which lists the projections and LeCam's
       means), and a restored trainer takes the same steps.
    3. D's projections and the new layers of both model options learn in those steps.
    4. A carry of the trained-on trainer (what crosses machines in git) brings back its projections
       and LeCam's means, not only G and D."""
    ds = PreparedDataset(data)
    # LeCam and both model options (the multi-scale D, G's skip-layer excitation) ride along in both
    # trainers: their layers must learn in a real step too (3.)
    shared = {"lecam_weight": 0.3, "lecam_start": 1, "lecam_decay": 0.5, "model__d_lowres": 16,
              "model__g_skip_excitation": True}
    config = tiny_config(contrastive_weight=1.0, contrastive_dim=8, **shared)
    _, plain = make_trainer(data, tiny_config(**shared))
    _, aligned = make_trainer(data, config)
    for name in ("generator", "discriminator", "text_encoder"):
        getattr(aligned.networks, name).set_weights(getattr(plain.networks, name).get_weights())
    batch = next(iter(make_pipeline(ds, PipelineConfig(batch_size=8), 0)))
    updates = []
    for trainer in (plain, aligned):
        trainer.opt_d.learning_rate = 0.0
        start = [w.copy() for w in trainer.networks.generator.get_weights()]
        d_start = [w.copy() for w in trainer.networks.discriminator.get_weights()]
        metrics = trainer.train_step(batch)
        assert all(np.array_equal(a, b) for a, b in zip(d_start, trainer.networks.discriminator.get_weights()))
        updates.append([b - a for a, b in zip(start, trainer.networks.generator.get_weights())])
    assert any(not np.allclose(a, b, atol=1e-7) for a, b in zip(*updates))
    assert np.isfinite(metrics["contrast"]) and metrics["contrast"] > 0  # D's InfoNCE, reported

    aligned.opt_d.learning_rate = config.lr_d
    nets = aligned.networks
    layers = [aligned.contrast, nets.discriminator.backbone.get_layer("lowres_from_rgb"),
              nets.generator.get_layer("sle_8_to_64")]
    before = [[w.copy() for w in layer.get_weights()] for layer in layers]
    trainer, restored, path = steps_then_resume(data, config, tmp_path, steps=1, after=2, trainer=aligned)
    for layer, old in zip(layers, before):  # D's projections, the coarse D branch and G's gates learn
        assert any(not np.allclose(a, b) for a, b in zip(old, layer.get_weights())), layer.name
    names = [n for n, _ in tf.train.list_variables(path)]
    assert any(n.startswith("d_contrast") for n in names) and any(n.startswith("lecam_means") for n in names)
    for a, b in zip(trainer.contrast.get_weights(), restored.contrast.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # LeCam: past lecam_start each step moves the means half way (decay 0.5) to its real and fake scores
    before = restored.lecam_means.numpy().copy()
    metrics = restored.train_step(next(iter(make_pipeline(ds, PipelineConfig(batch_size=8), 9))))
    np.testing.assert_allclose(restored.lecam_means.numpy(),
                               0.5 * before + 0.5 * np.array([metrics["d_real"], metrics["d_fake"]]), rtol=1e-5)
    # 4. The carry: float16 kernels, the projections and LeCam's means included
    path = tmp_path / carry.CARRY_FILE
    storage.save_weights(path, carry.carry_arrays(restored))
    _, fresh = make_trainer(data, config)
    assert carry.restore_carry(fresh, path) == int(restored.step.numpy())
    np.testing.assert_array_equal(fresh.lecam_means.numpy(), restored.lecam_means.numpy())
    for a, b in zip(fresh.contrast.weights, restored.contrast.weights):
        np.testing.assert_array_equal(a.numpy(), storage.to_stored(b.numpy(), True).astype(np.float32))
    assert not np.array_equal(fresh.lecam_means.numpy(), [0.0, 0.0])
    _, plain_trainer = make_trainer(data, tiny_config(**{**shared, "lecam_weight": 0.0}))
    with pytest.raises(UserError, match="carried but not in the config: .*d_contrast.*lecam_means"):
        carry.restore_carry(plain_trainer, path)  # a config without them is refused in one line

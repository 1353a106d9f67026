"""LeCam regularisation: the pure loss, and real training steps that use it and resume exactly."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from test_training import data, steps_then_resume  # noqa: F401
from tiny import tiny_config

from gan_core.train import losses


def test_lecam_loss_penalises_only_the_far_side():
    real, fake = tf.constant([1.0, -2.0]), tf.constant([0.5, -1.0])
    # relu(real - a_F)^2: (1 - 0)^2 and 0; relu(a_R - fake)^2: (0.2 - 0.5)->0 and (0.2 + 1)^2
    value = float(losses.lecam(real, fake, anchor_real=0.2, anchor_fake=0.0))
    assert np.isclose(value, (1.0 + 0.0) / 2 + (0.0 + 1.44) / 2)
    assert float(losses.lecam(tf.constant([-1.0]), tf.constant([1.0]), 0.0, 0.0)) == 0.0


@pytest.mark.slow
def test_lecam_steps_track_the_means_and_resume_exactly(data, tmp_path):  # noqa: F811
    """Real steps: a trainer restored from the saved state (which lists the means) takes the same
    steps, and past lecam_start the means are running means of D's scores."""
    trainer, restored, path = steps_then_resume(data, tiny_config(lecam_weight=0.3, lecam_start=2, lecam_decay=0.5),
                                                tmp_path, steps=2, after=2)
    assert any(n.startswith("lecam_means") for n, _ in tf.train.list_variables(path))
    np.testing.assert_allclose(restored.lecam_means.numpy(), trainer.lecam_means.numpy(), rtol=1e-5, atol=1e-6)
    # past lecam_start, each step moves the means half way (decay 0.5) to its real and fake scores
    from gan_core.data.dataset import PipelineConfig, PreparedDataset, make_pipeline

    before = restored.lecam_means.numpy().copy()
    metrics = restored.train_step(next(iter(make_pipeline(PreparedDataset(data), PipelineConfig(batch_size=8), 9))))
    np.testing.assert_allclose(restored.lecam_means.numpy(),
                               0.5 * before + 0.5 * np.array([metrics["d_real"], metrics["d_fake"]]), rtol=1e-5)

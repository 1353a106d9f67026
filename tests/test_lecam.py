"""LeCam regularisation: the pure loss, and real training steps that use it and resume exactly."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from tiny import tiny_config

from gan_core.train import losses


def test_lecam_loss_penalises_only_the_far_side():
    real, fake = tf.constant([1.0, -2.0]), tf.constant([0.5, -1.0])
    # relu(real - a_F)^2: (1 - 0)^2 and 0; relu(a_R - fake)^2: (0.2 - 0.5)->0 and (0.2 + 1)^2
    value = float(losses.lecam(real, fake, anchor_real=0.2, anchor_fake=0.0))
    assert np.isclose(value, (1.0 + 0.0) / 2 + (0.0 + 1.44) / 2)
    assert float(losses.lecam(tf.constant([-1.0]), tf.constant([1.0]), 0.0, 0.0)) == 0.0


def test_lecam_run_tracks_means_and_resumes_exactly(tiny_run, tmp_path):
    from gan_core.train.loop import train

    _, data, _ = tiny_run
    config = tiny_config(lecam_weight=0.3, lecam_start=2, max_steps=6)
    whole = train(data, tmp_path / "whole", config, log=lambda *_: None, progress=False)
    train(data, tmp_path / "split", tiny_config(lecam_weight=0.3, lecam_start=2, max_steps=3), log=lambda *_: None,
          progress=False)
    split = train(data, tmp_path / "split", config, log=lambda *_: None, progress=False)
    assert whole.end_step == split.end_step == 6
    for name, value in whole.last_metrics.items():
        assert np.isclose(value, split.last_metrics[name], rtol=1e-5, atol=1e-6), name
    names = [n for n, _ in tf.train.list_variables(tf.train.latest_checkpoint(str(tmp_path / "whole" / "state")))]
    assert any(n.startswith("lecam_means") for n in names)

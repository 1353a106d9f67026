"""LeCam regularisation: the pure loss."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from gan_core.train import losses


def test_lecam_loss_penalises_only_the_far_side():
    real, fake = tf.constant([1.0, -2.0]), tf.constant([0.5, -1.0])
    # relu(real - a_F)^2: (1 - 0)^2 and 0; relu(a_R - fake)^2: (0.2 - 0.5)->0 and (0.2 + 1)^2
    value = float(losses.lecam(real, fake, anchor_real=0.2, anchor_fake=0.0))
    assert np.isclose(value, (1.0 + 0.0) / 2 + (0.0 + 1.44) / 2)
    assert float(losses.lecam(tf.constant([-1.0]), tf.constant([1.0]), 0.0, 0.0)) == 0.0


# Real LeCam steps, their running means and an exact resume: test_contrastive.py (one traced run for
# both D-side terms).

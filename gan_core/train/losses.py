"""GAN losses as pure functions of discriminator outputs (float32 tensors of shape [B]).

Each returns the per-replica share of the global mean: the local mean divided by the number of
replicas, so that summing over replicas (what gradient all-reduce does) gives the global mean.
"""

from __future__ import annotations

import tensorflow as tf


def hinge_d(real_right, fake_right, real_wrong, replicas: int = 1):
    """DF-GAN matching-aware hinge loss for D: real/right up; fake/right and real/wrong down."""
    loss = tf.reduce_mean(tf.nn.relu(1.0 - real_right)) + 0.5 * (
        tf.reduce_mean(tf.nn.relu(1.0 + fake_right)) + tf.reduce_mean(tf.nn.relu(1.0 + real_wrong)))
    return loss / replicas


def hinge_g(fake_right, replicas: int = 1):
    return -tf.reduce_mean(fake_right) / replicas


def bce_d(real_right, fake_right, real_wrong, replicas: int = 1):
    """GAN-INT-CLS (Reed et al. 2016) matching-aware BCE loss for D, on logits."""
    def bce(logits, target):
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.fill(tf.shape(logits), target), logits))
    return (bce(real_right, 1.0) + 0.5 * (bce(fake_right, 0.0) + bce(real_wrong, 0.0))) / replicas


def bce_g(fake_right, replicas: int = 1):
    """Non-saturating generator loss."""
    return tf.reduce_mean(tf.nn.softplus(-fake_right)) / replicas


def ma_gp(grad_images, grad_sentences, weight: float, power: float, replicas: int = 1):
    """Matching-aware gradient penalty (DF-GAN): k * E[ ||grad_(x, s) D(x, s)||^p ] on real/right pairs."""
    sq = tf.reduce_sum(tf.square(tf.cast(grad_images, tf.float32)), axis=[1, 2, 3])
    sq += tf.reduce_sum(tf.square(tf.cast(grad_sentences, tf.float32)), axis=1)
    return weight * tf.reduce_mean(tf.pow(tf.sqrt(sq + 1e-12), power)) / replicas


def mode_seeking(images_a, images_b, noise_a, noise_b, eps: float = 1e-2, replicas: int = 1):
    """Mode-seeking term (Mao et al. 2019, MSGAN), per pair of images of one caption:
    1 / (mean|G(z1) - G(z2)| / mean|z1 - z2| + eps). Low when different noise gives different images."""
    d_img = tf.reduce_mean(tf.abs(images_a - images_b), axis=[1, 2, 3])
    d_z = tf.reduce_mean(tf.abs(noise_a - noise_b), axis=1)
    return tf.reduce_mean(1.0 / (d_img / d_z + eps)) / replicas


def lecam(real_scores, fake_scores, anchor_real, anchor_fake, replicas: int = 1):
    """LeCam regulariser (Tseng et al. 2021, google/lecam-gan `lecam_reg`): keeps D's scores on real
    images from rising above the running mean of its fake scores, and its fake scores from falling
    below the running mean of its real ones: mean(relu(D(x) - a_F)^2) + mean(relu(a_R - D(G(z)))^2)."""
    real = tf.cast(real_scores, tf.float32)
    fake = tf.cast(fake_scores, tf.float32)
    return (tf.reduce_mean(tf.square(tf.nn.relu(real - anchor_fake)))
            + tf.reduce_mean(tf.square(tf.nn.relu(anchor_real - fake)))) / replicas


def info_nce(queries, keys, positives, temperature: float, replicas: int = 1):
    """InfoNCE (CLIP, XMC-GAN): mean cross-entropy of softmax(cos(q_i, k_j) / temperature) over the
    keys j, with key positives[i] the right one for query i. Rows are L2-normalised here."""
    q = tf.math.l2_normalize(tf.cast(queries, tf.float32), axis=-1)
    k = tf.math.l2_normalize(tf.cast(keys, tf.float32), axis=-1)
    logits = tf.matmul(q, k, transpose_b=True) / temperature
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(positives, logits)) / replicas


def info_nce_pairs(a, b, temperature: float, replicas: int = 1):
    """Symmetric InfoNCE of paired rows (a_i with b_i): the mean of the a->b and b->a directions."""
    diagonal = tf.range(tf.shape(a)[0])
    return 0.5 * (info_nce(a, b, diagonal, temperature, replicas) + info_nce(b, a, diagonal, temperature, replicas))

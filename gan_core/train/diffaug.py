"""Differentiable augmentation (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient
GAN Training", mit-han-lab/data-efficient-gans), applied to real and fake images before D.

Every random draw is stateless from an explicit seed pair, so a training step is reproducible
and a resumed run continues exactly.
"""

from __future__ import annotations

import tensorflow as tf


def _uniform(shape, seed, k, offset=0, total=None):
    """Draws for the whole global batch, then this replica's rows: replicas match one device."""
    total = shape[0] if total is None else total
    draws = tf.random.stateless_uniform([total, *shape[1:]], seed=tf.stack([seed[0], seed[1] * 7 + k]))
    return draws[offset: offset + shape[0]]


def color(x, seed, offset=0, total=None):
    n = tf.shape(x)[0]
    x = x + (_uniform([n, 1, 1, 1], seed, 0, offset, total) - 0.5)
    mean = tf.reduce_mean(x, axis=3, keepdims=True)
    x = (x - mean) * (_uniform([n, 1, 1, 1], seed, 1, offset, total) * 2.0) + mean
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * (_uniform([n, 1, 1, 1], seed, 2, offset, total) + 0.5) + mean


def translation(x, seed, offset=0, total=None, ratio: float = 0.125):
    n, h, w = tf.shape(x)[0], x.shape[1], x.shape[2]
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = tf.cast(tf.floor(_uniform([n], seed, 3, offset, total) * (2 * sh + 1)), tf.int32)  # 0..2sh = shift + sh
    dx = tf.cast(tf.floor(_uniform([n], seed, 4, offset, total) * (2 * sw + 1)), tf.int32)
    padded = tf.pad(x, [[0, 0], [sh, sh], [sw, sw], [0, 0]])
    ys = dy[:, None] + tf.range(h)[None, :]
    xs = dx[:, None] + tf.range(w)[None, :]
    out = tf.gather(padded, ys, axis=1, batch_dims=1)
    return tf.gather(out, xs, axis=2, batch_dims=1)


def cutout(x, seed, offset=0, total=None, ratio: float = 0.5):
    n, h, w = tf.shape(x)[0], x.shape[1], x.shape[2]
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = tf.cast(tf.floor(_uniform([n], seed, 5, offset, total) * (h + (1 - ch % 2))), tf.int32) - ch // 2
    cx = tf.cast(tf.floor(_uniform([n], seed, 6, offset, total) * (w + (1 - cw % 2))), tf.int32) - cw // 2
    rows = tf.range(h)[None, :]
    cols = tf.range(w)[None, :]
    in_y = (rows >= cy[:, None]) & (rows < cy[:, None] + ch)
    in_x = (cols >= cx[:, None]) & (cols < cx[:, None] + cw)
    mask = tf.cast(~(in_y[:, :, None] & in_x[:, None, :]), x.dtype)
    return x * mask[:, :, :, None]


_POLICIES = {"color": color, "translation": translation, "cutout": cutout}


def parse_policy(policy: str) -> tuple[str, ...]:
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    unknown = [p for p in names if p not in _POLICIES]
    if unknown:
        raise ValueError(f"unknown DiffAugment policy {unknown}; choose from {sorted(_POLICIES)}")
    return names


def diff_augment(x, seed, policy: tuple[str, ...], offset=0, total=None):
    """x: float [B,H,W,C]; seed: int32 [2]. The same seed gives the same augmentation.

    Under a distribution strategy, `x` holds rows offset..offset+B of a global batch of `total`.
    """
    for name in policy:
        x = _POLICIES[name](x, seed, offset, total)
    return x

"""Projector: find the noise z whose image matches a target for a fixed caption (exploration only).

As StyleGAN2's projector (Karras et al. 2020, `projector.py`), but in z: Adam on z for all targets
of a batch at once, the generator (and the feature network) called with training=False. Only z
(and, when asked, the sentence code) is a variable on the tape, so no gradient reaches any weight.

Loss per target: mean squared pixel distance at 64 px and at 16 px (4x4 average pooled: colour and
layout, forgiving texture), plus `feature_weight` x the squared distance of unit-normalised
features in a network the project already has: the snapshot's own D backbone (4x4 features) when
the snapshot holds D, else the `flowers` evaluator's penultimate features. z is projected back onto
the sphere of radius sqrt(noise_dim) after every step, where N(0, I) noise lives (a penalty only
pulls towards it). Deterministic: each target's start is its own (seed, index) draw.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gan_core import UserError

FEATURE_NETS = ("auto", "discriminator", "evaluator", "none")


@dataclass(frozen=True)
class ProjectorConfig:
    steps: int = 200  # Adam steps
    lr: float = 0.1  # peak Adam step size on z (unit-variance coordinates)
    rampdown: float = 0.25  # the step size falls to 0 along a half cosine over this last share of steps
    pixel16_weight: float = 1.0  # weight of the 16 px pixel term (the 64 px term has weight 1)
    feature_weight: float = 0.5  # weight of the feature term (0: pixels only)
    feature_net: str = "auto"  # auto: D backbone when the snapshot holds D, else the evaluator; or none
    optimise_sentence: bool = False  # also move the sentence code (the latent then stores it)
    frame_every: int = 10  # a GIF frame every this many steps (plus the first and the last)
    seed: int = 0  # start noise of target i: default_rng([seed, i])

    def check(self) -> ProjectorConfig:
        if not 1 <= int(self.steps) <= 5000:
            raise UserError(f"projector steps must be 1..5000, got {self.steps}")
        if not self.lr > 0:
            raise UserError(f"projector learning rate must be positive, got {self.lr}")
        if self.feature_net not in FEATURE_NETS:
            raise UserError(f"feature network must be one of {', '.join(FEATURE_NETS)}, got {self.feature_net!r}")
        if self.frame_every < 1:
            raise UserError(f"frame_every must be at least 1, got {self.frame_every}")
        return self


@dataclass
class Projection:
    z: np.ndarray  # float32 [N, noise_dim], on the sqrt(noise_dim) sphere
    sentence: np.ndarray  # float32 [N, D]: the caption's code (moved only with optimise_sentence)
    images: np.ndarray  # uint8 [N, 64, 64, 3]: Sampler.from_embeddings(sentence, z), bit-exact to a reload
    losses: list = field(default_factory=list)  # mean loss over the batch, per step
    final_loss: np.ndarray | None = None  # float32 [N]: each target's loss at the last step
    frames: list = field(default_factory=list)  # uint8 [N, 64, 128, 3] each: target beside projection
    feature_net: str = "none"  # which network gave the feature term


def start_noise(count: int, dim: int, seed: int, offset: int = 0) -> np.ndarray:
    """float32 [count, dim]: target i starts from default_rng([seed, offset + i]), on the sphere."""
    z = np.stack([np.random.default_rng([int(seed), offset + i]).standard_normal(dim) for i in range(count)])
    return (z * np.sqrt(dim) / np.linalg.norm(z, axis=1, keepdims=True)).astype(np.float32)


def feature_network(sampler, config: ProjectorConfig, evaluator=None) -> tuple[str, Callable | None]:
    """(name, fn): fn maps images float32 [B, 64, 64, 3] in [-1, 1] to features [B, F] (a tensor)."""
    import tensorflow as tf

    wanted = config.feature_net
    if wanted == "none" or config.feature_weight == 0:
        return "none", None
    d = sampler.networks.discriminator
    if wanted == "discriminator" and (d is None or not hasattr(d, "backbone")):
        raise UserError(f"snapshot {sampler.path} holds no discriminator backbone; use the evaluator or none")
    if wanted in ("auto", "discriminator") and d is not None and hasattr(d, "backbone"):
        backbone = d.backbone
        return "discriminator", lambda x: tf.reshape(backbone(x, training=False), [tf.shape(x)[0], -1])
    if evaluator is None:
        from gan_core.eval.evaluators import get_evaluator

        evaluator = get_evaluator("flowers")
    model = evaluator.model
    return "evaluator", lambda x: model((x + 1.0) * 127.5, training=False)[1]


def rampdown(progress: float, share: float) -> float:
    """StyleGAN2's projector schedule, without its warm-up: 1, then a half cosine to 0 over `share`."""
    if share <= 0:
        return 1.0
    ramp = min(1.0, (1.0 - progress) / share)
    return 0.5 - 0.5 * float(np.cos(ramp * np.pi))


def _sphere(z, dim: int):
    import tensorflow as tf

    return z * tf.sqrt(float(dim)) / (tf.norm(z, axis=1, keepdims=True) + 1e-8)


def _to_uint8(x) -> np.ndarray:
    return np.clip(np.rint((np.asarray(x, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def project(sampler, captions, targets: np.ndarray, config: ProjectorConfig = ProjectorConfig(), *,
            evaluator=None, start: np.ndarray | None = None, progress: Callable | None = None) -> Projection:
    """targets uint8 [N, 64, 64, 3], one caption each -> their projections. `start` overrides the
    start noise; `progress(step, steps)` is called after every step."""
    import tensorflow as tf

    config.check()
    targets = np.asarray(targets, np.uint8)
    if targets.ndim != 4 or targets.shape[1:] != (64, 64, 3):
        raise UserError(f"targets must be uint8 [N, 64, 64, 3], got shape {targets.shape}")
    if len(captions) != len(targets):
        raise UserError(f"{len(captions)} captions for {len(targets)} targets")
    dim = sampler.noise_dim
    sentence0 = sampler.encode(list(captions)).embeddings
    z0 = start_noise(len(targets), dim, config.seed) if start is None else np.asarray(start, np.float32)
    name, features = feature_network(sampler, config, evaluator)
    networks = sampler.networks

    target = tf.constant(targets.astype(np.float32) / 127.5 - 1.0)
    target16 = tf.nn.avg_pool2d(target, 4, 4, "VALID")
    target_f = tf.math.l2_normalize(features(target), axis=1) if features else None
    z = tf.Variable(_sphere(tf.constant(z0), dim))
    s = tf.Variable(sentence0)
    variables = [z, s] if config.optimise_sentence else [z]
    # Adam (Kingma & Ba 2015) written out: its state is ours, so nothing touches Keras' optimizers.
    m = [tf.Variable(tf.zeros_like(v)) for v in variables]
    v2 = [tf.Variable(tf.zeros_like(v)) for v in variables]
    t = tf.Variable(0.0)
    b1, b2, eps = 0.9, 0.999, 1e-8
    lr = tf.Variable(float(config.lr))
    w16, wf = float(config.pixel16_weight), float(config.feature_weight)

    @tf.function(autograph=False, reduce_retracing=True)
    def step():
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            for var in variables:
                tape.watch(var)
            image = networks.generate(z, s, training=False)[0]
            per = tf.reduce_mean(tf.square(image - target), [1, 2, 3])
            per += w16 * tf.reduce_mean(tf.square(tf.nn.avg_pool2d(image, 4, 4, "VALID") - target16), [1, 2, 3])
            if features is not None:
                f = tf.math.l2_normalize(features(image), axis=1)
                per += wf * tf.reduce_sum(tf.square(f - target_f), axis=1)
            loss = tf.reduce_sum(per)  # a sum: each target's gradient is its own
        grads = tape.gradient(loss, variables)
        t.assign_add(1.0)
        for var, g, mm, vv in zip(variables, grads, m, v2):
            mm.assign(b1 * mm + (1 - b1) * g)
            vv.assign(b2 * vv + (1 - b2) * tf.square(g))
            mhat, vhat = mm / (1 - b1 ** t), vv / (1 - b2 ** t)
            var.assign_sub(lr * mhat / (tf.sqrt(vhat) + eps))
        z.assign(_sphere(z, dim))
        return per, image

    out = Projection(z=z0, sentence=sentence0, images=np.zeros_like(targets), feature_net=name)
    for i in range(int(config.steps)):
        lr.assign(float(config.lr) * rampdown(i / int(config.steps), config.rampdown))
        per, image = step()
        out.losses.append(float(np.mean(per.numpy())))
        if i % config.frame_every == 0:
            out.frames.append(np.concatenate([targets, _to_uint8(image)], axis=2))
        if progress is not None:
            progress(i + 1, int(config.steps))
    out.final_loss = per.numpy().astype(np.float32)
    out.z = z.numpy().astype(np.float32)
    out.sentence = s.numpy().astype(np.float32)
    # The final image through the Sampler's own path, so a saved latent rebuilds it bit-exactly.
    out.images = sampler.from_embeddings(out.sentence, out.z)
    out.frames.append(np.concatenate([targets, out.images], axis=2))
    return out


def gif_bytes(frames: list, index: int = 0, scale: int = 2, frame_ms: int = 120) -> bytes:
    """Target i beside its projection over the optimisation, as an animated GIF (last frame held)."""
    import io

    from PIL import Image

    images = [Image.fromarray(f[index]).resize((f.shape[2] * scale, f.shape[1] * scale), Image.Resampling.NEAREST)
              for f in frames]
    buffer = io.BytesIO()
    durations = [frame_ms] * (len(images) - 1) + [frame_ms * 10]
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)
    return buffer.getvalue()

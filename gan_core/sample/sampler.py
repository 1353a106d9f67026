"""Generation from a snapshot: captions + seeds -> uint8 images, and interpolation helpers.

Noise is drawn per image from its own seed (numpy PCG64), so the same caption and seed give the
same image whatever the batch size or order. Best-of-N (a snapshot with its discriminator) draws N
candidates per image, candidate 0 being the seed's own noise, and keeps the one the GAN's own D
rates highest for the caption: a choice by the GAN itself, never by an evaluation network.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from gan_core import UserError
from gan_core.data.text import Vocabulary
from gan_core.sample.snapshot import (
    has_discriminator,
    load_weights_into,
    model_config_from_meta,
    read_meta,
    resolve_checkpoint,
)

BATCH = 32  # every model call sees exactly this many rows (padded), so results never depend on batching
MAX_BEST_OF = 64


class EmptyCaptionError(UserError):
    pass


def seed_noise(seeds: Sequence[int], dim: int) -> np.ndarray:
    """float32 [N, dim]: one standard-normal vector per seed, independent of the others."""
    return np.stack([np.random.default_rng(int(s)).standard_normal(dim) for s in seeds]).astype(np.float32)


def candidate_noise(seeds: Sequence[int], dim: int, candidate: int) -> np.ndarray:
    """float32 [N, dim]: best-of-N's candidate `candidate` per seed; 0 is the seed's own noise, so
    best-of-1 is plain generation, and each (seed, candidate) has its own independent stream."""
    if candidate == 0:
        return seed_noise(seeds, dim)
    return np.stack([np.random.default_rng([int(s), int(candidate)]).standard_normal(dim)
                     for s in seeds]).astype(np.float32)


def check_best_of(n: int) -> int:
    """Best-of-N's N: 1 (plain generation) to MAX_BEST_OF."""
    if isinstance(n, bool) or not float(n).is_integer() or not 1 <= int(n) <= MAX_BEST_OF:
        raise UserError(f"best-of N must be a whole number from 1 to {MAX_BEST_OF}, got {n}")
    return int(n)


def lerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return (1.0 - t) * a[None] + t * b[None]


def slerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985), as used for Gaussian latents; falls back to lerp
    when the vectors are (anti)parallel."""
    t = np.linspace(0.0, 1.0, steps, dtype=np.float64)[:, None]
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    cos = np.dot(a64, b64) / (np.linalg.norm(a64) * np.linalg.norm(b64) + 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        return lerp(a, b, steps)
    out = (np.sin((1 - t) * omega) * a64 + np.sin(t * omega) * b64) / np.sin(omega)
    return out.astype(np.float32)


def check_truncation(psi: float) -> float:
    """The truncation psi (StyleGAN's trick in z space, whose mean is 0: z <- psi * z): 1 leaves
    the noise as drawn; smaller values trade variety for typical-looking images."""
    psi = float(psi)
    if not 0.0 < psi <= 1.0:
        raise UserError(f"truncation psi must be in (0, 1], got {psi:g}")
    return psi


def to_uint8(images) -> np.ndarray:
    """[-1, 1] floats -> uint8 [0, 255]."""
    return np.clip(np.rint((np.asarray(images, dtype=np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


@dataclass
class EncodedCaptions:
    embeddings: np.ndarray  # float32 [N, D]
    unknown_words: list[int]  # per caption, how many words were not in the vocabulary
    lengths: list[int]


def _read_snapshot(path: str | Path):
    """(snapshot dir, migrated meta, ModelConfig, Vocabulary), checked before any model is built."""
    path = resolve_checkpoint(path)
    meta = read_meta(path)
    try:
        config = model_config_from_meta(meta)
        vocab = Vocabulary.from_json(meta["vocab"])
    except (KeyError, TypeError, ValueError, UserError) as exc:
        raise UserError(f"snapshot {path} is corrupt (model.json: {exc})") from None
    if not (path / "weights.npz").is_file():
        raise UserError(f"snapshot {path} is incomplete (weights.npz missing)")
    return path, meta, config, vocab


class Sampler:
    """Text encoder + generator: captions and seeds in, uint8 images out. Build once, call many times.

    `Sampler.load(path)` reads a snapshot; `Sampler(networks, vocab)` wraps networks in memory
    (training's sample grids). `switch_to(path)` loads another snapshot of the same architecture
    into the built networks, which skips building and tracing (the dashboard's pool).
    """

    def __init__(self, networks, vocab: Vocabulary, *, path: Path | None = None, meta: dict | None = None,
                 warn_unknown: bool = True):
        from gan_core.models import noise_size

        self.networks = networks
        self.config = networks.config
        self.vocab = vocab
        self.path = path  # the snapshot whose weights are loaded (None: in-memory networks)
        self.meta = meta or {}
        self.epoch = int(self.meta.get("epoch", 0))
        self.noise_dim = noise_size(self.config)
        self.warn_unknown = warn_unknown
        self._compile()

    @classmethod
    def load(cls, path: str | Path, warn_unknown: bool = True) -> "Sampler":
        """A snapshot dir, or a run dir (its latest snapshot)."""
        # Check the files before importing TensorFlow: bad paths fail fast.
        path, meta, config, vocab = _read_snapshot(path)
        from gan_core.models import build_networks

        nets = build_networks(config, len(vocab), vocab.max_len, "float32", with_discriminator=has_discriminator(meta))
        load_weights_into(path, nets.text_encoder, nets.generator, nets.discriminator)
        return cls(nets, vocab, path=path, meta=meta, warn_unknown=warn_unknown)

    @staticmethod
    def architecture_key(meta: dict) -> str:
        """Equal for snapshots whose weights fit the same built networks (meta already migrated)."""
        vocab = meta.get("vocab", {})
        return json.dumps([meta.get("model"), len(vocab.get("words", [])), vocab.get("max_len"),
                           has_discriminator(meta)], sort_keys=True, default=str)

    def switch_to(self, path: str | Path) -> None:
        """Load another snapshot of the same architecture into these networks."""
        path, meta, _, vocab = _read_snapshot(path)
        if self.architecture_key(meta) != self.architecture_key(self.meta):
            raise UserError(f"snapshot {path} has another architecture than {self.path}; load it with Sampler.load")
        self.path = None  # half-assigned weights must never pass for a snapshot
        load_weights_into(path, self.networks.text_encoder, self.networks.generator, self.networks.discriminator)
        self.path, self.meta, self.vocab, self.epoch = path, meta, vocab, int(meta.get("epoch", 0))

    def _compile(self) -> None:
        import tensorflow as tf

        nets = self.networks
        spec_ids = tf.TensorSpec([BATCH, self.vocab.max_len], tf.int32)
        spec_noise = tf.TensorSpec([BATCH, self.noise_dim], tf.float32)
        spec_sent = tf.TensorSpec([BATCH, int(nets.text_encoder.output.shape[-1])], tf.float32)
        # Plain model calls: nothing for autograph to convert (it only warns that it cannot parse lambdas).
        self._encode_fn = tf.function(lambda ids: nets.text_encoder(ids, training=False), input_signature=[spec_ids],
                                      autograph=False)
        self._generate_fn = tf.function(lambda z, s: nets.generate(z, s, training=False)[0],
                                        input_signature=[spec_noise, spec_sent], autograph=False)
        self._rate_fn = None
        if nets.discriminator is not None:
            size = self.config.image_size
            spec_image = tf.TensorSpec([BATCH, size, size, 3], tf.float32)
            self._rate_fn = tf.function(lambda x, s: nets.discriminator([x, s], training=False),
                                        input_signature=[spec_image, spec_sent], autograph=False)

    @property
    def can_rank(self) -> bool:
        """Whether best-of-N works: the snapshot holds the GAN's discriminator."""
        return self._rate_fn is not None

    def require_ranking(self, n: int) -> int:
        """n, checked: 1..MAX_BEST_OF, and above 1 only for a snapshot that holds its discriminator."""
        n = check_best_of(n)
        if n > 1:
            self._require_discriminator()
        return n

    def _require_discriminator(self) -> None:
        if not self.can_rank:
            raise UserError(f"best-of-N needs a snapshot that holds its discriminator; {self.path} has none "
                            f"(training writes it into every snapshot from this version on)")

    @staticmethod
    def _batched(fn, *arrays) -> np.ndarray:
        """Apply fn to fixed-size chunks (the last one zero-padded) and stitch the rows back."""
        n = len(arrays[0])
        out = []
        for i in range(0, n, BATCH):
            chunk = [a[i:i + BATCH] for a in arrays]
            rows = len(chunk[0])
            if rows < BATCH:
                chunk = [np.concatenate([c, np.zeros((BATCH - rows, *c.shape[1:]), c.dtype)]) for c in chunk]
            out.append(np.asarray(fn(*chunk))[:rows])
        return np.concatenate(out)

    def encode(self, captions: Sequence[str]) -> EncodedCaptions:
        encoded = [self.vocab.encode(c) for c in captions]
        for i, e in enumerate(encoded):
            if e.length == 0:
                raise EmptyCaptionError(f"caption {i} is empty (no letters or digits): {captions[i]!r}")
        unknown = [e.unknown for e in encoded]
        if self.warn_unknown:
            for i, e in enumerate(encoded):
                if e.unknown == e.length:
                    warnings.warn(f"caption {i} has no known word; the image ignores its text: {captions[i]!r}")
        ids = np.stack([e.ids for e in encoded]) if encoded else np.zeros((0, self.vocab.max_len), np.int32)
        emb = self._batched(self._encode_fn, ids) if len(ids) else np.zeros((0, 0), np.float32)
        return EncodedCaptions(emb.astype(np.float32), unknown, [e.length for e in encoded])

    def from_embeddings(self, embeddings: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """Raw call: sentence embeddings [N, D] + noise [N, noise_dim] -> uint8 [N, 64, 64, 3]."""
        if len(embeddings) != len(noise):
            raise ValueError("embeddings and noise must have the same length")
        if not len(noise):
            size = self.config.image_size
            return np.zeros((0, size, size, 3), np.uint8)
        return to_uint8(self._batched(self._generate_fn, noise.astype(np.float32), embeddings.astype(np.float32)))

    def noise(self, seeds: Sequence[int], truncation: float = 1.0, candidate: int = 0) -> np.ndarray:
        """float32 [N, noise_dim]: each seed's noise (or its best-of-N candidate), scaled by the
        truncation psi (exact at 1)."""
        return candidate_noise(seeds, self.noise_dim, candidate) * np.float32(check_truncation(truncation))

    def rate(self, images: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        """The GAN's own D logits [N] of uint8 images [N, 64, 64, 3] for sentence embeddings [N, D]."""
        self._require_discriminator()
        x = images.astype(np.float32) / 127.5 - 1.0
        return self._batched(self._rate_fn, x, embeddings.astype(np.float32)).reshape(-1)

    def pick_best(self, embeddings: np.ndarray, seeds: Sequence[int], truncation: float, n: int) -> np.ndarray:
        """uint8 [N, 64, 64, 3]: per row, of n candidates for (embedding, seed), the one D rates highest
        (ties: the lowest candidate); n = 1 is plain generation and needs no discriminator."""
        n = self.require_ranking(n)  # before any generation: a refusal costs nothing
        if n == 1:
            return self.from_embeddings(embeddings, self.noise(seeds, truncation))
        best = best_logit = None
        for k in range(n):
            images = self.from_embeddings(embeddings, self.noise(seeds, truncation, k))
            logit = self.rate(images, embeddings)
            if best is None:
                best, best_logit = images, logit
            else:
                better = logit > best_logit
                best[better], best_logit = images[better], np.where(better, logit, best_logit)
        return best

    def generate(self, captions: Sequence[str], seeds: Sequence[int] | int, truncation: float = 1.0,
                 best_of: int = 1) -> np.ndarray:
        """One image per (caption, seed) pair -> uint8 [N, 64, 64, 3]; an int seed applies to all."""
        seeds = [int(seeds)] * len(captions) if isinstance(seeds, (int, np.integer)) else list(seeds)
        if len(seeds) != len(captions):
            raise ValueError(f"{len(captions)} captions but {len(seeds)} seeds")
        return self.pick_best(self.encode(captions).embeddings, seeds, truncation, best_of)

    def grid(self, captions: Sequence[str], seeds: Sequence[int], truncation: float = 1.0,
             best_of: int = 1) -> np.ndarray:
        """Every caption with every seed -> uint8 [len(captions), len(seeds), 64, 64, 3]."""
        emb = self.encode(captions).embeddings
        flat = self.pick_best(np.repeat(emb, len(seeds), axis=0), list(seeds) * len(captions), truncation, best_of)
        return flat.reshape(len(captions), len(seeds), *flat.shape[1:])

    def interpolate_noise(self, caption: str, seed_a: int, seed_b: int, steps: int, mode: str = "slerp",
                          truncation: float = 1.0) -> np.ndarray:
        a, b = self.noise([seed_a, seed_b], truncation)
        path = slerp(a, b, steps) if mode == "slerp" else lerp(a, b, steps)
        emb = np.repeat(self.encode([caption]).embeddings, steps, axis=0)
        return self.from_embeddings(emb, path)

    def interpolate_captions(self, caption_a: str, caption_b: str, seed: int, steps: int,
                             truncation: float = 1.0) -> np.ndarray:
        emb = self.encode([caption_a, caption_b]).embeddings
        path = lerp(emb[0], emb[1], steps)
        return self.from_embeddings(path, np.repeat(self.noise([seed], truncation), steps, axis=0))


def snapshot_grid_png(nets, generator, vocab, captions: list[str], seeds: list[int]) -> bytes:
    """A snapshot's samples.png: `generator` (with the run's text encoder) over captions x seeds.
    Here, not in snapshot.py, which stays the on-disk format alone (no import cycle)."""
    from gan_core.models import Networks
    from gan_core.sample.image_grid import compose_grid, to_png

    sampler = Sampler(Networks(nets.config, nets.text_encoder, generator, None), vocab, warn_unknown=False)
    return to_png(compose_grid(sampler.grid(captions, seeds), captions, [f"seed {s}" for s in seeds]))

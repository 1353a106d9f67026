"""Latent directions by GANSpace (Härkönen et al. 2020, NeurIPS; github.com/harskish/ganspace).

Sample many z for a caption (or pooled over captions), take the generator's first hidden
activation that sees the caption (DF-GAN's first up-block output, 8x8: the `fc` layer before it
reads z alone, so its PCA would ignore the caption), and find its principal components. As
GANSpace does for BigGAN, each component is mapped back to z by linear regression of z on the PCA
coordinates; we then orthonormalise the z directions in component order (Gram-Schmidt), so the
sliders move independent directions. z ~ N(0, I) has a standard deviation of 1 along any unit
direction, so "k sigma" moves z by k along the direction; `sigma` records the measured value.

An edit can apply to a range of generator layers only, as GANSpace's layer range does for
StyleGAN: layer 0 is `fc` (z -> 4x4), layer i the i-th up block, each of which reads z through its
affine conditioning; layers outside the range keep the original z.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from gan_core import UserError, storage

FORMAT = "gan_core.directions/1"
NAMED_FORMAT = "gan_core.named_directions/1"
LAYER = "up0"


@dataclass(frozen=True)
class Directions:
    components: np.ndarray  # float32 [K, noise_dim]: orthonormal z directions, strongest first
    sigma: np.ndarray  # float32 [K]: standard deviation of z along each (about 1)
    explained: np.ndarray  # float32 [K]: share of the activation variance of each PCA component
    captions: tuple[str, ...]
    samples: int
    seed: int

    def to_dict(self) -> dict:
        return {"format": FORMAT, "components": self.components.tolist(), "sigma": self.sigma.tolist(),
                "explained": self.explained.tolist(), "captions": list(self.captions), "samples": self.samples,
                "seed": self.seed}

    @classmethod
    def from_dict(cls, data: dict) -> Directions:
        return cls(np.asarray(data["components"], np.float32), np.asarray(data["sigma"], np.float32),
                   np.asarray(data["explained"], np.float32), tuple(data["captions"]), int(data["samples"]),
                   int(data["seed"]))


def layer_count(networks) -> int:
    """Layers an edit can address: fc plus the up blocks."""
    return 1 + sum(1 for layer in networks.generator.layers if layer.name.startswith("up"))


def _require_dfgan(networks) -> None:
    if networks.config.arch != "dfgan":
        raise UserError(f"latent directions need a dfgan snapshot; this one is {networks.config.arch}")


def activation_model(networks):
    """(noise, sentence) -> the first up block's output, flattened [B, 8 * 8 * C]."""
    import keras

    _require_dfgan(networks)
    g = networks.generator
    return keras.Model(g.inputs, keras.layers.Flatten()(g.get_layer(LAYER).output))


def activations(networks, z: np.ndarray, sentence: np.ndarray, batch: int = 256) -> np.ndarray:
    model = activation_model(networks)
    return np.concatenate([np.asarray(model([z[i:i + batch], sentence[i:i + batch]], training=False))
                           for i in range(0, len(z), batch)]).astype(np.float32)


def pca(x: np.ndarray, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean [D], components [k, D] orthonormal rows, explained variance share [k]) of rows x [N, D]:
    randomised SVD (Halko et al. 2011) with 4 power iterations, seeded."""
    x = np.asarray(x, np.float64)
    mean = x.mean(0)
    centred = x - mean
    rng = np.random.default_rng(seed)
    q = centred.T @ rng.standard_normal((len(centred), k + 10))  # [D, k+10]
    for _ in range(4):
        q, _ = np.linalg.qr(q)
        q = centred.T @ (centred @ q)
    q, _ = np.linalg.qr(q)
    _, s, vt = np.linalg.svd(centred @ q, full_matrices=False)
    components = (vt[:k] @ q.T)
    components /= np.linalg.norm(components, axis=1, keepdims=True)
    total = float(np.sum(centred ** 2))
    return mean.astype(np.float32), components.astype(np.float32), (s[:k] ** 2 / total).astype(np.float32)


def fit(sampler, captions: list[str], k: int = 10, samples: int = 2000, seed: int = 0) -> Directions:
    """GANSpace directions of a snapshot for captions (pooled when several)."""
    if not captions:
        raise UserError("latent directions need at least one caption")
    if not 1 <= k <= min(sampler.noise_dim, 50):
        raise UserError(f"number of components must be 1..{min(sampler.noise_dim, 50)}, got {k}")
    z = np.random.default_rng(seed).standard_normal((samples, sampler.noise_dim)).astype(np.float32)
    codes = sampler.encode(list(captions)).embeddings
    sentence = codes[np.arange(samples) % len(codes)]
    acts = activations(sampler.networks, z, sentence)
    mean, components, explained = pca(acts, k, seed)
    coords = (acts - mean) @ components.T  # [N, k]
    # GANSpace: regress z on the PCA coordinates, one z direction per component.
    regression, *_ = np.linalg.lstsq(coords.astype(np.float64), z.astype(np.float64), rcond=None)  # [k, noise_dim]
    basis, _ = np.linalg.qr(regression.T)  # Gram-Schmidt in component order
    basis = basis.T * np.sign(np.sum(basis.T * regression, axis=1, keepdims=True))  # keep each one's sign
    sigma = np.std(z @ basis.T, axis=0)
    return Directions(basis.astype(np.float32), sigma.astype(np.float32), explained, tuple(captions), samples, seed)


def edit(z: np.ndarray, directions: Directions, amounts) -> np.ndarray:
    """z [N, noise_dim] moved by amounts[k] sigma along component k (amounts [K] or [N, K])."""
    amounts = np.asarray(amounts, np.float32)
    k = amounts.shape[-1]
    return (np.asarray(z, np.float32) + (amounts * directions.sigma[:k]) @ directions.components[:k]).astype(np.float32)


def generate_layered(networks, z: np.ndarray, z_edited: np.ndarray, sentence: np.ndarray,
                     layers: tuple[int, int] | None = None) -> np.ndarray:
    """uint8 images: layers first..last (inclusive; 0 = fc) read z_edited, the others z."""
    import tensorflow as tf

    from gan_core.sample.sampler import to_uint8

    _require_dfgan(networks)
    g = networks.generator
    count = layer_count(networks)
    first, last = (0, count - 1) if layers is None else (int(layers[0]), int(layers[1]))
    if not 0 <= first <= last < count:
        raise UserError(f"layer range must lie in 0..{count - 1}, got {first}..{last}")
    pick = lambda i: z_edited if first <= i <= last else z
    fc = g.get_layer("fc")
    x = fc(tf.constant(pick(0)))
    x = tf.reshape(x, [len(z), 4, 4, -1])
    s = tf.constant(sentence, tf.float32)
    for i in range(count - 1):
        x = g.get_layer(f"up{i}")(x, tf.concat([tf.constant(pick(i + 1)), s], axis=1))
    x = g.get_layer("to_rgb")(tf.nn.leaky_relu(x, 0.2))
    return to_uint8(tf.tanh(x))


def atlas(sampler, directions: Directions, captions: list[str], seed: int = 0, amounts=(-2.0, 0.0, 2.0),
          k: int | None = None) -> np.ndarray:
    """uint8 [K, len(captions) * len(amounts), 64, 64, 3]: row k is component k; each caption (its
    seed's z) at each amount in sigma, captions side by side."""
    k = len(directions.components) if k is None else min(k, len(directions.components))
    codes = sampler.encode(list(captions)).embeddings
    base = sampler.noise([seed] * len(captions))
    rows = []
    for c in range(k):
        moves = np.zeros((len(captions) * len(amounts), len(directions.components)), np.float32)
        moves[:, c] = np.tile(np.asarray(amounts, np.float32), len(captions))
        z = edit(np.repeat(base, len(amounts), axis=0), directions, moves)
        rows.append(sampler.from_embeddings(np.repeat(codes, len(amounts), axis=0), z))
    return np.stack(rows)


def cache_key(digest: str, captions: list[str], k: int, samples: int, seed: int) -> dict:
    return {"kind": FORMAT, "snapshot": digest, "layer": LAYER, "captions": list(captions), "k": int(k),
            "samples": int(samples), "seed": int(seed)}


def cached_fit(sampler, digest: str, captions: list[str], k: int = 10, samples: int = 2000, seed: int = 0,
               write: bool = True) -> Directions:
    """fit(), kept next to the snapshot as directions_<key>.json (git-ignored)."""
    key = cache_key(digest, captions, k, samples, seed)
    stored = storage.read_cache(sampler.path, "directions", key) if sampler.path is not None else None
    if isinstance(stored, dict) and stored.get("format") == FORMAT:
        return Directions.from_dict(stored)
    found = fit(sampler, captions, k, samples, seed)
    if write and sampler.path is not None:
        storage.write_cache(sampler.path, "directions", key, found.to_dict())
    return found


# -- named directions: a user's saved edits, as one JSON file ----------------------------------
def named_to_json(named: dict[str, dict], noise_dim: int) -> str:
    """named: name -> {"vector": [noise_dim] floats, "layers": [first, last]}."""
    return json.dumps({"format": NAMED_FORMAT, "noise_dim": int(noise_dim),
                       "directions": {n: {"vector": [float(v) for v in np.asarray(d["vector"], np.float32)],
                                          "layers": [int(x) for x in d["layers"]]} for n, d in named.items()}})


def named_from_json(text: str | bytes, noise_dim: int) -> dict[str, dict]:
    try:
        data = json.loads(text)
        if data.get("format") != NAMED_FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        named = {str(n): {"vector": np.asarray(d["vector"], np.float32), "layers": [int(x) for x in d["layers"]]}
                 for n, d in data["directions"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"not a named-directions file ({exc})") from None
    for name, d in named.items():
        if d["vector"].shape != (noise_dim,) or not np.all(np.isfinite(d["vector"])):
            raise UserError(f"direction {name!r} has {d['vector'].size} values; this snapshot's noise has {noise_dim}")
    return named

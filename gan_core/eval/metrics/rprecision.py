"""R-precision and caption cosine between image and caption embeddings.

R-precision as defined for AttnGAN (Xu et al. 2018, "AttnGAN: Fine-Grained Text to Image
Generation with Attentional GANs", reference code taoxugit/AttnGAN and its DAMSM encoders): for
each generated image, its true caption is ranked against `candidates` captions of other images
by cosine similarity of the embeddings; R-precision is the share of images whose true caption
ranks first (R = 1 of 1 relevant caption among candidates + 1).
"""

from __future__ import annotations

import numpy as np


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def _check(image_emb, text_emb) -> tuple[np.ndarray, np.ndarray]:
    image_emb = np.asarray(image_emb, dtype=np.float64)
    text_emb = np.asarray(text_emb, dtype=np.float64)
    if image_emb.ndim != 2 or image_emb.shape != text_emb.shape or image_emb.shape[0] == 0:
        raise ValueError(f"need two non-empty [N, D] arrays of one shape, got {image_emb.shape} and {text_emb.shape}")
    return _normalise(image_emb), _normalise(text_emb)


def caption_cosine(image_emb, text_emb) -> float:
    """Mean cosine similarity between image i and caption i over rows of [N, D] embeddings.

    A zero vector has similarity 0 with anything.
    """
    image_emb, text_emb = _check(image_emb, text_emb)
    return float(np.einsum("nd,nd->n", image_emb, text_emb).mean())


def r_precision(image_emb, text_emb, candidates: int = 99, seed: int = 0) -> float:
    """Share of images i whose caption i is more similar than all of `candidates` other captions.

    Row i of `image_emb` and `text_emb` (float [N, D]) belong together. For each image the
    candidates are drawn without replacement from the other N - 1 captions with numpy's PCG64
    seeded by `seed`, so the result is deterministic. A tie with a candidate counts as a miss,
    so collapsed embeddings (all equal or zero) score 0 rather than 1. Needs N > candidates.
    About 1 / (candidates + 1) for unrelated embeddings, 1 when image and caption embeddings
    are equal and distinct from one another.
    """
    image_emb, text_emb = _check(image_emb, text_emb)
    count = image_emb.shape[0]
    if not 1 <= candidates <= count - 1:
        raise ValueError(f"candidates must be between 1 and N - 1 = {count - 1}, got {candidates}")
    rng = np.random.default_rng(seed)
    hits = 0
    for i in range(count):
        others = rng.choice(count - 1, size=candidates, replace=False)
        others = others + (others >= i)  # skip caption i itself
        true_similarity = image_emb[i] @ text_emb[i]
        hits += bool(true_similarity > (text_emb[others] @ image_emb[i]).max())
    return hits / count

"""Inception Score (Salimans et al. 2016, "Improved Techniques for Training GANs").

IS = exp(E_x KL(p(y|x) || p(y))), with p(y) the mean of p(y|x) over the images of one split.
Reference implementation: openai/improved-gan, inception_score/model.py (`get_inception_score`),
which splits the images into 10 parts and reports mean and std over parts. The Reverse Image
Caption scorer uses one split over all images, eps 1e-16 inside both logs; `splits=1` is that.
"""

from __future__ import annotations

import numpy as np


def softmax(logits) -> np.ndarray:
    """Row-wise softmax of float [N, C] logits, in float64, stable for any logit scale."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def _split_score(probs: np.ndarray, eps: float) -> float:
    marginal = probs.mean(axis=0, keepdims=True)  # p(y)
    kl = (probs * (np.log(probs + eps) - np.log(marginal + eps))).sum(axis=1)
    return float(np.exp(kl.mean()))


def inception_score(probs, splits: int = 1, eps: float = 1e-16, seed: int = 0) -> tuple[float, float]:
    """(mean, std) of the Inception Score of class probabilities `probs` float [N, C].

    With `splits` > 1 the rows are shuffled with numpy's PCG64 seeded by `seed` (so the parts do
    not follow file order) and cut into `splits` nearly equal parts; the score is computed per
    part and the mean and (population) std over parts are returned. `splits=1` gives the score of
    the whole set and std 0, as the competition computes it; it does not depend on `seed`.
    The score lies in [1, C]: 1 when every image gets the same distribution, C when the images
    are confidently and evenly spread over all C classes.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] == 0:
        raise ValueError(f"probs must be a non-empty [N, C] array, got shape {probs.shape}")
    if not 1 <= splits <= probs.shape[0]:
        raise ValueError(f"splits must be between 1 and the number of images ({probs.shape[0]}), got {splits}")
    if splits == 1:
        return _split_score(probs, eps), 0.0
    order = np.random.default_rng(seed).permutation(probs.shape[0])
    scores = [_split_score(part, eps) for part in np.array_split(probs[order], splits)]
    return float(np.mean(scores)), float(np.std(scores))

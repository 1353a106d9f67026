"""The Reverse Image Caption leaderboard score (NTHU CS565600 / Kaggle, Oxford-102 flowers).

Reference implementation: the competition's `inception_score.py` (J. Yuan, 2019). For image i
with test ID t_i, logits z_i from the official flower classifier and reference logits r_t (the
classifier's logits of the real test image, `eval_metrics.pkl`):

    score_i = cosine_distance(z_i, r_{t_i}) + 0.5 / IS(softmax(z))

with IS the Inception Score of all images as one split (eps 1e-16). The leaderboard value is the
mean of score_i; lower is better. The original runs in float32 and uses
scipy.spatial.distance.cosine; here everything is float64, which agrees to ~1e-6.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from gan_core import UserError
from gan_core.eval.metrics.inception_score import inception_score, softmax


def cosine_distance(a, b) -> np.ndarray:
    """Row-wise 1 - cos(a_i, b_i) for float [N, D] arrays, float64 [N], in [0, 2].

    A zero vector has no direction: its cosine similarity with anything (itself included) is
    defined as 0, so its distance is 1 (scipy.spatial.distance.cosine returns nan there).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"cosine_distance needs two [N, D] arrays of one shape, got {a.shape} and {b.shape}")
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    dots = np.einsum("nd,nd->n", a, b)
    similarity = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
    return np.clip(1.0 - similarity, 0.0, 2.0)


def _reference_rows(ids, references: Mapping[int, np.ndarray], num_classes: int) -> np.ndarray:
    ids = [int(i) for i in np.asarray(ids).reshape(-1)]
    missing = sorted({i for i in ids if i not in references})
    if missing:
        shown = ", ".join(str(i) for i in missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise UserError(f"{len(missing)} test ID(s) have no reference logits: {shown}")
    rows = np.stack([np.asarray(references[i], dtype=np.float64).reshape(-1) for i in ids])
    if rows.shape[1] != num_classes:
        raise UserError(f"reference logits have {rows.shape[1]} classes but the evaluator gives {num_classes}")
    return rows


def _parts(logits, ids, references, eps) -> tuple[np.ndarray, float]:
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 2 or logits.shape[0] == 0:
        raise ValueError(f"logits must be a non-empty [N, C] array, got shape {logits.shape}")
    if len(np.asarray(ids).reshape(-1)) != logits.shape[0]:
        raise ValueError(f"{len(np.asarray(ids).reshape(-1))} ids for {logits.shape[0]} rows of logits")
    cosine = cosine_distance(logits, _reference_rows(ids, references, logits.shape[1]))
    score, _ = inception_score(softmax(logits), splits=1, eps=eps)
    return cosine, score


def competition_scores(logits, ids, references: Mapping[int, np.ndarray], eps: float = 1e-16) -> np.ndarray:
    """Per-image competition scores, float64 [N], for logits float [N, C] and test IDs int [N].

    `references` maps test ID -> C reference logits; an ID missing there is a UserError.
    """
    cosine, score = _parts(logits, ids, references, eps)
    return cosine + 0.5 / score


def competition_score(logits, ids, references: Mapping[int, np.ndarray], eps: float = 1e-16) -> dict[str, float]:
    """The leaderboard value and its parts: {score, cosine, inception_term, inception_score}.

    score = cosine + inception_term, cosine = mean cosine distance to the references,
    inception_term = 0.5 / inception_score.
    """
    cosine, score = _parts(logits, ids, references, eps)
    term = 0.5 / score
    return {
        "score": float(cosine.mean() + term),
        "cosine": float(cosine.mean()),
        "inception_term": float(term),
        "inception_score": float(score),
    }

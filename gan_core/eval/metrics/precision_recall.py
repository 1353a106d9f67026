"""Improved precision and recall (Kynkaanniemi et al. 2019, "Improved Precision and Recall Metric
for Assessing Generative Models").

Each sample of a set spans a ball whose radius is the distance to its k-th nearest other sample
of the same set; the union of the balls estimates that set's manifold. Precision is the share of
fake samples inside the real manifold (distance <= radius of at least one real sample); recall
is the share of real samples inside the fake manifold.

Reference implementation: NVlabs/stylegan2-ada-pytorch, metrics/precision_recall.py (`compute_pr`:
the radius is `kthvalue(k + 1)` of a row that includes the sample itself at distance 0, which is
the k-th nearest other sample; the test is `dist <= radius`). Differences: distances here are
float64 (the reference stores features, distances and radii in float16), and the features are
whatever the caller passes (the reference uses VGG16; this workbench passes Inception features).

Distances are computed exactly in float64 from ||a||^2 + ||b||^2 - 2 a.b, clipped at 0, in row
batches: 3000 x 3000 rows of 2048 features take 24 MB per 1000-row batch instead of the 72 MB
matrix plus its temporaries. The expansion's rounding (~1e-12 relative to the squared norms) is
far below the gaps between distinct images' features.
"""

from __future__ import annotations

import numpy as np

ROW_BATCH = 1000  # probe rows per distance block; the result does not depend on it


def _check(features, side: str, k: int) -> np.ndarray:
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(f"{side} features must be [N, D], got shape {features.shape}")
    if features.shape[0] <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} {side} rows, got {features.shape[0]}")
    return features


def _distances(rows: np.ndarray, cols: np.ndarray, cols_sq: np.ndarray) -> np.ndarray:
    """Euclidean distances float64 [len(rows), len(cols)]; cols_sq holds the columns' squared norms."""
    sq = np.einsum("ij,ij->i", rows, rows)[:, None] + cols_sq[None, :] - 2.0 * (rows @ cols.T)
    return np.sqrt(np.maximum(sq, 0.0))


def manifold_radii(features: np.ndarray, k: int, row_batch: int = ROW_BATCH) -> np.ndarray:
    """Distance of each row of float64 [N, D] to its k-th nearest other row -> [N]."""
    sq = np.einsum("ij,ij->i", features, features)
    radii = []
    for start in range(0, len(features), row_batch):
        block = _distances(features[start:start + row_batch], features, sq)
        radii.append(np.partition(block, k, axis=1)[:, k])  # index 0 is the row itself
    return np.concatenate(radii)


def inside(probes: np.ndarray, manifold: np.ndarray, radii: np.ndarray, row_batch: int = ROW_BATCH) -> np.ndarray:
    """bool [len(probes)]: whether each probe row lies within radii[j] of at least one manifold row j."""
    sq = np.einsum("ij,ij->i", manifold, manifold)
    rows = [(_distances(probes[start:start + row_batch], manifold, sq) <= radii[None, :]).any(axis=1)
            for start in range(0, len(probes), row_batch)]
    return np.concatenate(rows) if rows else np.zeros(0, dtype=bool)


def coverage(probes: np.ndarray, manifold: np.ndarray, radii: np.ndarray, row_batch: int = ROW_BATCH) -> float:
    """Share of probe rows within radii[j] of at least one manifold row j."""
    return float(inside(probes, manifold, radii, row_batch).mean())


def precision_recall(features_real, features_fake, k: int = 3, row_batch: int = ROW_BATCH) -> tuple[float, float]:
    """(precision, recall) of fake [N2, D] against real [N1, D] features, neighbourhood size k.

    Each side needs more than k rows (a k-th nearest other row); otherwise a ValueError.
    """
    if k < 1 or row_batch < 1:
        raise ValueError(f"need k >= 1 and row_batch >= 1, got {k} and {row_batch}")
    real, fake = _check(features_real, "real", k), _check(features_fake, "fake", k)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature widths differ: real {real.shape[1]}, fake {fake.shape[1]}")
    precision = coverage(fake, real, manifold_radii(real, k, row_batch), row_batch)
    recall = coverage(real, fake, manifold_radii(fake, k, row_batch), row_batch)
    return precision, recall

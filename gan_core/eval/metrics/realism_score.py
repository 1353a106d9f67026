"""Per-image realism score (Kynkaanniemi et al. 2019, "Improved Precision and Recall Metric for
Assessing Generative Models", section 5).

Each real feature vector r_j spans a ball of radius rad_j, its distance to its k-th nearest other
real vector (the radii precision/recall use). The realism of a generated vector g is

    R(g) = max_j  rad_j / ||g - r_j||

over the real balls whose radius is at most the `percentile`-th percentile of the radii (the
paper drops the larger half, which are outliers in sparse regions and would call anything
realistic). R >= 1 means g lies inside at least one kept ball; larger is more typical of the real
data, below 1 outside the estimated manifold.

Reference implementation: kynkaat/improved-precision-and-recall-metric, precision_recall.py
(`ManifoldEstimator(..., nhood_sizes=[3], clamp_to_percentile=50)` and `evaluate(...,
return_realism=True)`, eps 1e-5 added to the distance). Differences: float64 throughout; the
dropped balls are left out rather than given radius 0 (the same maximum whenever some kept ball
has a positive ratio).
"""

from __future__ import annotations

import numpy as np

from gan_core.eval.metrics.precision_recall import ROW_BATCH, _distances, manifold_radii

EPS = 1e-5  # the reference's guard against a zero distance


def realism_scores(real_features, fake_features, k: int = 3, percentile: float = 50.0,
                   row_batch: int = ROW_BATCH, radii: np.ndarray | None = None) -> np.ndarray:
    """Realism R(g) float64 [N2] of each fake row [N2, D] against real rows [N1, D] (N1 > k).

    `radii` (float [N1]): the real rows' k-NN radii when already computed (manifold_radii)."""
    real = np.asarray(real_features, dtype=np.float64)
    fake = np.asarray(fake_features, dtype=np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"need real [N1, D] and fake [N2, D] features, got {real.shape} and {fake.shape}")
    if len(real) <= k:
        raise ValueError(f"the realism score with k={k} needs more than {k} real rows, got {len(real)}")
    radii = manifold_radii(real, k, row_batch) if radii is None else np.asarray(radii, dtype=np.float64)
    keep = radii <= np.percentile(radii, percentile)
    real, radii = real[keep], radii[keep]
    sq = np.einsum("ij,ij->i", real, real)
    out = [np.max(radii[None, :] / (_distances(fake[start:start + row_batch], real, sq) + EPS), axis=1)
           for start in range(0, len(fake), row_batch)]
    return np.concatenate(out) if out else np.zeros(0)

"""Frechet Inception Distance (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule").

FID = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)) between Gaussians fitted to two feature sets.
Reference implementations: bioinf-jku/TTUR (fid.py, `calculate_frechet_distance`) and
mseitzer/pytorch-fid (`calculate_frechet_distance`), whose handling of singular covariances
(retry with eps on the diagonal) and of small imaginary parts of the square root is kept here.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2); means [D], covariances [D, D].

    When the product of the covariances is singular (e.g. fewer samples than dimensions) its
    square root is recomputed with `eps` added to both diagonals. A complex square root whose
    diagonal has an imaginary part above 1e-3 is a ValueError; smaller ones are rounding noise
    and are dropped.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, dtype=np.float64)), np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"mismatched shapes: mu {mu1.shape}/{mu2.shape}, sigma {sigma1.shape}/{sigma2.shape}")
    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"matrix square root has an imaginary part of {np.max(np.abs(covmean.imag)):.3g}")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def fid_from_features(features1, features2, eps: float = 1e-6) -> float:
    """FID between two feature sets float [N1, D] and [N2, D] (N >= 2 each; covariances unbiased)."""
    stats = []
    for features in (features1, features2):
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[0] < 2:
            raise ValueError(f"features must be [N, D] with N >= 2, got shape {features.shape}")
        stats.append((features.mean(axis=0), np.cov(features, rowvar=False)))
    (mu1, sigma1), (mu2, sigma2) = stats
    return frechet_distance(mu1, sigma1, mu2, sigma2, eps=eps)

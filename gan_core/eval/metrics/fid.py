"""Frechet Inception Distance (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule").

FID = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)) between Gaussians fitted to two feature sets,
the quantity of bioinf-jku/TTUR and mseitzer/pytorch-fid (`calculate_frechet_distance`).

Only the trace of the square root is needed, and S1 S2 is similar to the symmetric PSD matrix
R S2 R with R = S1^(1/2): Tr (S1 S2)^(1/2) = sum of sqrt(eigenvalues of R S2 R). Two symmetric
eigendecompositions replace scipy's general sqrtm (a complex Schur form): about 5x faster at
D = 2048, real by construction, and finite for singular covariances (fewer samples than
dimensions) without pytorch-fid's eps retry. Rounding's tiny negative eigenvalues count as 0.
tests/test_realism_metrics.py checks it against pytorch-fid's sqrtm formula.
"""

from __future__ import annotations

import numpy as np


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2); means [D], covariances [D, D]
    (symmetric positive semi-definite, as covariances are)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, dtype=np.float64)), np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"mismatched shapes: mu {mu1.shape}/{mu2.shape}, sigma {sigma1.shape}/{sigma2.shape}")
    root = _psd_sqrt(sigma1)
    inner = root @ sigma2 @ root
    eigenvalues = np.linalg.eigvalsh((inner + inner.T) / 2.0)  # symmetrised against rounding
    trace_sqrt = float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)


def fid_from_features(features1, features2) -> float:
    """FID between two feature sets float [N1, D] and [N2, D] (N >= 2 each; covariances unbiased)."""
    stats = []
    for features in (features1, features2):
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[0] < 2:
            raise ValueError(f"features must be [N, D] with N >= 2, got shape {features.shape}")
        stats.append((features.mean(axis=0), np.cov(features, rowvar=False)))
    (mu1, sigma1), (mu2, sigma2) = stats
    return frechet_distance(mu1, sigma1, mu2, sigma2)

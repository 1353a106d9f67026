"""Seeds that fail under every caption, found in a grid of captions x seeds by per-seed precision.

The shipped default's 8x8 grid shows two such seeds by eye: seed 1 draws loose-petal close-ups and
seed 7 fragments on a dark ground, whatever the caption. A seed's precision is the share of its
images (one per caption) that lie inside the real images' manifold (Kynkaanniemi et al. 2019, the
realism instruments' precision, on the FID Inception features of the training reference set).
Layout similarity does not find them: every seed keeps its layout across captions to a degree (the
noise sets the pose), and on the shipped default the seeds that keep it most (0 and 6) draw whole
flowers (docs/experiments.md).

A seed fails when its precision is lower than random seed labels would give: each caption's images
are shuffled between the seeds, and the lowest per-seed precision of each shuffle makes the null.
Testing the lowest seed against the null's lowest keeps the false-alarm rate at `alpha` for the
whole grid, not per seed. The verdict's baseline is the real test images of the same probe captions,
measured against the same manifold (`real_precision`): what a perfect generator would reach there.
Pure functions on arrays, and `measure_grid`, which runs the Inception features of a grid of images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gan_core.eval.metrics.precision_recall import coverage, inside, manifold_radii
from gan_core.eval.realism import PR_NEIGHBOURS

PROBE_CAPTIONS = 60  # test captions per seed: a precision's standard error is about 0.06
FAIL_ALPHA = 0.01  # false alarms per healthy grid
PERMUTATIONS = 2000  # shuffles for the null; its 1% point moves by about one image between draws


@dataclass(frozen=True)
class SeedVerdict:
    precision: np.ndarray  # float64 [S]: per seed, the share of its images inside the real manifold
    pooled: float  # the same over all images of the grid
    threshold: float  # the alpha point of the lowest per-seed precision under random seed labels
    failed: tuple[int, ...]  # seed positions (columns of the grid) below the threshold


def grid_inside(fake_features, real_features, k: int = PR_NEIGHBOURS, radii: np.ndarray | None = None) -> np.ndarray:
    """fake float [C, S, D] (captions x seeds) against real [N, D] -> bool [C, S]: inside the real
    manifold (`radii`: its k-NN radii, when the caller has them already)."""
    fake = np.asarray(fake_features, dtype=np.float64)
    if fake.ndim != 3:
        raise ValueError(f"fake features must be [captions, seeds, D], got shape {fake.shape}")
    real = np.asarray(real_features, dtype=np.float64)
    if real.ndim != 2 or real.shape[1] != fake.shape[2] or len(real) <= k:
        raise ValueError(f"real features must be [N > {k}, {fake.shape[2]}], got shape {real.shape}")
    radii = manifold_radii(real, k) if radii is None else radii
    flags = inside(fake.reshape(-1, fake.shape[2]), real, radii)
    return flags.reshape(fake.shape[:2])


def lowest_seed_null(flags, permutations: int = PERMUTATIONS, seed: int = 0) -> np.ndarray:
    """float64 [permutations]: the lowest per-seed precision after shuffling each caption's row of
    flags bool [C, S] between the seeds."""
    flags = np.asarray(flags, dtype=np.float64)
    order = np.random.default_rng(seed).random((permutations, *flags.shape)).argsort(axis=2)
    shuffled = np.take_along_axis(np.broadcast_to(flags, order.shape), order, axis=2)
    return shuffled.mean(axis=1).min(axis=1)


def seed_verdict(flags, alpha: float = FAIL_ALPHA, permutations: int = PERMUTATIONS, seed: int = 0) -> SeedVerdict:
    """Per-seed precision of flags bool [C, S] (inside the real manifold, captions x seeds) and the
    seeds that fail under every caption."""
    flags = np.asarray(flags)
    if flags.ndim != 2 or flags.dtype != bool:
        raise ValueError(f"flags must be a bool [captions, seeds] array, got {flags.dtype} {flags.shape}")
    if min(flags.shape) < 2:
        raise ValueError(f"need at least 2 captions and 2 seeds, got {flags.shape}")
    if not 0.0 < alpha < 1.0 or permutations < 1:
        raise ValueError(f"need 0 < alpha < 1 and permutations >= 1, got {alpha} and {permutations}")
    precision = flags.mean(axis=0)
    threshold = float(np.quantile(lowest_seed_null(flags, permutations, seed), alpha))
    failed = tuple(int(s) for s in np.flatnonzero(precision < threshold))
    return SeedVerdict(precision=precision, pooled=float(flags.mean()), threshold=threshold, failed=failed)


def probe_rows(total: int, count: int = PROBE_CAPTIONS, rng: np.random.Generator | None = None) -> np.ndarray:
    """int [min(count, total)]: rows of the `total` test captions drawn without replacement by `rng`
    (default_rng(0) when None): the same probe set wherever a snapshot's seeds are checked."""
    rng = np.random.default_rng(0) if rng is None else rng
    return rng.choice(total, min(count, total), replace=False)


def probe_captions(captions, count: int = PROBE_CAPTIONS, rng: np.random.Generator | None = None) -> list[str]:
    """The captions at `probe_rows` (all when fewer than `count`)."""
    captions = list(captions)
    return [captions[i] for i in probe_rows(len(captions), count, rng)]


def real_precision(real_features, reference_features, k: int = PR_NEIGHBOURS,
                   radii: np.ndarray | None = None) -> float:
    """The verdict's baseline: the share of real images float [N, D] (the probe captions' own test
    images) inside the reference set's manifold, the test a seed's images take (`radii`: its k-NN
    radii, when the caller has them already)."""
    real = np.asarray(real_features, dtype=np.float64)
    reference = np.asarray(reference_features, dtype=np.float64)
    if real.ndim != 2 or reference.ndim != 2 or real.shape[1] != reference.shape[1] or len(reference) <= k:
        raise ValueError(f"need real [N, D] and reference [M > {k}, D] features, "
                         f"got {real.shape} and {reference.shape}")
    return coverage(real, reference, manifold_radii(reference, k) if radii is None else radii)


def measure_grid(grid, real_images, extractor, reference_features, k: int = PR_NEIGHBOURS) -> tuple[SeedVerdict, float]:
    """The verdict on images uint8 [C, S, H, W, 3] (captions x seeds) and its baseline, the captions'
    own test images uint8 [C, H, W, 3]: `extractor.features` (the FID Inception network) against the
    reference set's features, whose manifold radii are computed once for both."""
    grid = np.asarray(grid)
    reference = np.asarray(reference_features, dtype=np.float64)
    radii = manifold_radii(reference, k)
    features = extractor.features(grid.reshape(-1, *grid.shape[2:])).reshape(*grid.shape[:2], -1)
    verdict = seed_verdict(grid_inside(features, reference, k, radii))
    return verdict, real_precision(extractor.features(real_images), reference, k, radii)

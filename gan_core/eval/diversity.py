"""Mode-collapse diagnostics: diversity of generated images within and across captions, the number
of distinct predicted classes, and the nearest real training image of each generated image.

The measures are pure functions on arrays (the pairwise-distance diversity follows the LPIPS/
feature-distance diversity of Zhu et al. 2017, "BicycleGAN", and MSGAN, Mao et al. 2019, with a
plain Euclidean distance in place of LPIPS). `measure_snapshot` runs them on one snapshot's
images and `cached_measure` keeps the result next to the snapshot (a gan_core.storage cache), so a
snapshot is measured once per (captions, seeds, evaluator).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from gan_core import storage

CACHE_VERSION = 2  # bump when a measure changes, so old cache files are ignored


def pixel_features(images) -> np.ndarray:
    """uint8 [N, H, W, 3] -> float32 [N, H*W*3] scaled so that a Euclidean distance between two rows
    is the root-mean-square pixel difference in [0, 1] (0: identical, 1: black vs white)."""
    images = np.asarray(images)
    flat = images.reshape(len(images), -1).astype(np.float32) / 255.0
    return flat / np.sqrt(max(flat.shape[1], 1), dtype=np.float32)


def pairwise_distances(x, y) -> np.ndarray:
    """Euclidean distances float64 [N, M] between the rows of x [N, D] and y [M, D]."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    squared = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * x @ y.T
    return np.sqrt(np.maximum(squared, 0.0))


def mean_pairwise_distance(x) -> float:
    """Mean Euclidean distance over all unordered pairs of rows of x [N, D] (N >= 2)."""
    x = np.asarray(x)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"need at least two rows [N, D], got shape {x.shape}")
    upper = np.triu_indices(len(x), k=1)
    return float(pairwise_distances(x, x)[upper].mean())


def within_caption_diversity(features) -> float:
    """features [C, S, D] (C captions x S seeds): the mean over captions of the mean pairwise distance
    between the caption's S images. Falls towards 0 when the noise stops mattering (mode collapse)."""
    features = np.asarray(features)
    if features.ndim != 3:
        raise ValueError(f"features must be [captions, seeds, D], got shape {features.shape}")
    return float(np.mean([mean_pairwise_distance(f) for f in features]))


def across_caption_diversity(features) -> float:
    """features [C, S, D]: the mean over seeds of the mean pairwise distance between the C captions'
    images at that seed. Falls towards 0 when the caption stops mattering."""
    features = np.asarray(features)
    if features.ndim != 3:
        raise ValueError(f"features must be [captions, seeds, D], got shape {features.shape}")
    return float(np.mean([mean_pairwise_distance(features[:, s]) for s in range(features.shape[1])]))


def distinct_classes(logits) -> int:
    """How many different classes the arg-max of logits [N, K] picks."""
    return int(len(np.unique(np.asarray(logits).argmax(axis=1))))


def nearest_real(generated, real, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """For each row of generated [N, D], the index int64 [N] of the nearest row of real [M, D] and the
    distance float64 [N]; real is processed in chunks so that M can be large (memory-mapped)."""
    generated = np.asarray(generated, dtype=np.float64)
    best = np.full(len(generated), np.inf)
    index = np.zeros(len(generated), np.int64)
    for start in range(0, len(real), chunk):
        dist = pairwise_distances(generated, np.asarray(real[start:start + chunk], dtype=np.float64))
        arg = dist.argmin(axis=1)
        value = dist[np.arange(len(generated)), arg]
        better = value < best
        best[better], index[better] = value[better], arg[better] + start
    return index, best


def sharp_drops(values: Sequence[float | None], threshold: float = 0.3) -> list[bool]:
    """True where a value falls by more than `threshold` (a fraction) below the previous known value."""
    flags, previous = [], None
    for value in values:
        bad = value is not None and previous is not None and previous > 0 and value < (1 - threshold) * previous
        flags.append(bool(bad))
        if value is not None:
            previous = value
    return flags


DROP_METRICS = ("feature_within", "feature_across", "pixel_within", "pixel_across", "distinct_classes")
BOOTSTRAP_DRAWS = 200
NOISE_Z = 3.0  # a fall must exceed this many seed-to-seed standard deviations of the difference: 3, not 2,
# because a run is ~5 measures x several snapshots of comparisons (at 2, one in three runs would alarm on noise)


def _pair_mean(distances: np.ndarray, index: np.ndarray) -> float:
    """Mean of distances[index[a], index[b]] over a < b, leaving out pairs that drew the same seed
    (their distance is 0 by construction, not a measurement)."""
    sub = distances[np.ix_(index, index)]
    upper = np.triu(index[:, None] != index[None, :], k=1)
    return float(sub[upper].mean()) if upper.any() else float("nan")


def seed_bootstrap(features, classes=None, draws: int = BOOTSTRAP_DRAWS, seed: int = 0) -> dict:
    """Seed-to-seed noise of the diversity measures of features [C, S, D] (C captions x S seeds):
    the standard deviation of each measure over `draws` resamples of the seeds with replacement.
    `classes` int [C, S] (predicted classes) adds the noise of the distinct-class count.
    -> {"within": sd, "across": sd, "classes": sd or None}; None where a measure needs more seeds."""
    features = np.asarray(features, dtype=np.float64)
    captions, seeds = features.shape[:2]
    rng = np.random.default_rng(seed)
    within_d = np.stack([pairwise_distances(f, f) for f in features]) if seeds > 1 else None
    across = (np.array([mean_pairwise_distance(features[:, s]) for s in range(seeds)]) if captions > 1 else None)
    within, across_draws, class_draws = [], [], []
    for _ in range(draws):
        index = rng.integers(0, seeds, size=seeds)
        if within_d is not None and len(np.unique(index)) > 1:
            within.append(np.mean([_pair_mean(d, index) for d in within_d]))
        if across is not None:
            across_draws.append(across[index].mean())
        if classes is not None:
            class_draws.append(len(np.unique(np.asarray(classes)[:, index])))
    sd = lambda xs: float(np.std(xs, ddof=1)) if len(xs) > 1 else None  # noqa: E731
    return {"within": sd(within), "across": sd(across_draws), "classes": sd(class_draws) if classes is not None else None}


def beyond_noise(previous: float, current: float, sd_previous: float | None, sd_current: float | None,
                 threshold: float = 0.0, z: float = NOISE_Z) -> bool:
    """Whether `current` lies below `previous` by more than z standard deviations of their
    difference (seed-to-seed noise of both, independent) and by more than `threshold` (a fraction).
    Without a noise estimate nothing is flagged: a fall of unknown significance is not an alarm."""
    if sd_previous is None or sd_current is None or previous <= 0:
        return False
    spread = float(np.hypot(sd_previous, sd_current))
    fall = previous - current
    return bool(fall > z * spread and fall > threshold * previous)


def still_forming(quality: Sequence[float | None], factor: float = 2.0) -> list[bool]:
    """Per snapshot: True when its quality (an FID, lower is better) is more than `factor` times the
    best of the run: its images are still noise or blobs, and their diversity says nothing about
    collapse. An unknown quality (None/NaN) is not judged (False)."""
    known = [q for q in quality if q is not None and q == q]
    if not known:
        return [False] * len(quality)
    best = max(min(known), 1e-9)
    return [bool(q is not None and q == q and q > factor * best) for q in quality]


def collapse_flags(records: Sequence[dict], threshold: float = 0.3,
                   metrics: Sequence[str] = DROP_METRICS, z: float | None = None,
                   skip: Sequence[bool] | None = None) -> list[list[str]]:
    """Per record (one snapshot, in training order): the metrics that fall below their previous
    known value. Collapse shows in any of them: seeds stop mattering (within captions) or captions
    stop mattering (across captions, distinct classes).

    With `z` (the records hold `<metric>_sd`, from seed_bootstrap) a fall counts only beyond z
    seed-to-seed standard deviations and `threshold`; without it, any fall beyond `threshold`.
    `skip`: records left out on both sides of a comparison (still_forming snapshots)."""
    skip = list(skip) if skip is not None else [False] * len(records)
    flags: list[list[str]] = [[] for _ in records]
    for metric in metrics:
        previous = None  # (value, sd) of the last compared record
        for k, record in enumerate(records):
            value = record.get(metric)
            if value is None or value != value or skip[k]:  # NaN: not measured
                continue
            value, sd = float(value), record.get(f"{metric}_sd")
            if previous is not None:
                if z is None:
                    bad = previous[0] > 0 and value < (1 - threshold) * previous[0]
                else:
                    bad = beyond_noise(previous[0], value, previous[1], sd, threshold, z)
                if bad:
                    flags[k].append(metric)
            previous = (value, sd)
    return flags


def measure_snapshot(grid: np.ndarray, predict: Callable | None = None) -> dict:
    """Diversity numbers of one snapshot's images uint8 [C, S, 64, 64, 3] (C captions x S seeds).

    `predict` (an evaluator's predict: float32 [N, 64, 64, 3] in [0, 255] -> (logits, features))
    adds the feature-space diversity, the number of distinct predicted classes and the IS of the
    images; without it those are None. `<measure>_sd` is each measure's seed-to-seed noise
    (seed_bootstrap), which the collapse alarm compares a fall with.
    """
    from gan_core.eval.metrics import inception_score, softmax

    captions, seeds = grid.shape[:2]
    pixels = pixel_features(grid.reshape(-1, *grid.shape[2:])).reshape(captions, seeds, -1)
    out = {
        "pixel_within": within_caption_diversity(pixels) if seeds > 1 else None,
        "pixel_across": across_caption_diversity(pixels) if captions > 1 else None,
        "feature_within": None, "feature_across": None, "distinct_classes": None, "inception_score": None,
    }
    noise = seed_bootstrap(pixels)
    out.update({"pixel_within_sd": noise["within"], "pixel_across_sd": noise["across"]})
    if predict is not None:
        logits, features = predict(grid.reshape(-1, *grid.shape[2:]).astype(np.float32))
        features = np.asarray(features).reshape(captions, seeds, -1)
        out.update({
            "feature_within": within_caption_diversity(features) if seeds > 1 else None,
            "feature_across": across_caption_diversity(features) if captions > 1 else None,
            "distinct_classes": distinct_classes(logits),
            "inception_score": inception_score(softmax(logits))[0],
        })
        noise = seed_bootstrap(features, np.asarray(logits).argmax(axis=1).reshape(captions, seeds))
        out.update({"feature_within_sd": noise["within"], "feature_across_sd": noise["across"],
                    "distinct_classes_sd": noise["classes"]})
    return out


def diversity_key(snapshot_dir: str | Path, captions: Sequence[str], seeds: Sequence[int],
                  evaluator: str | None) -> dict:
    """Everything a snapshot's diversity numbers depend on, its weights included."""
    weights = Path(snapshot_dir) / "weights.npz"
    return {"format": f"gan_core.diversity/{CACHE_VERSION}",
            "snapshot": storage.file_identity(weights) if weights.is_file() else "",
            "captions": list(captions), "seeds": [int(s) for s in seeds], "evaluator": evaluator}


def read_cached(snapshot_dir: str | Path, captions: Sequence[str], seeds: Sequence[int],
                evaluator: str | None) -> dict | None:
    """The stored result for (snapshot, captions, seeds, evaluator), or None."""
    return storage.read_cache(snapshot_dir, "diversity", diversity_key(snapshot_dir, captions, seeds, evaluator))


def cached_measure(snapshot_dir: str | Path, captions: Sequence[str], seeds: Sequence[int],
                   evaluator: str | None, compute: Callable[[], dict]) -> dict:
    """`compute()` once per (snapshot, captions, seeds, evaluator), kept next to the snapshot. A
    read-only snapshot folder only loses the cache, not the result."""
    key = diversity_key(snapshot_dir, captions, seeds, evaluator)
    cached = storage.read_cache(snapshot_dir, "diversity", key)
    if cached is not None:
        return cached
    result = compute()
    storage.write_cache(snapshot_dir, "diversity", key, result)
    return result

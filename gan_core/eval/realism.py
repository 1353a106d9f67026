"""Realism instruments against a fixed reference set: FID, KID, precision/recall on the FID
Inception network's features, and saturated-pixel fractions.

The reference set is a seeded subset of REFERENCE_COUNT training images (their 64x64 copies) of
the prepared dataset. Its features are cached inside the dataset folder as
cache/inception_reference_<key>.npz; the key hashes everything the features depend on (the
images' sha256 from the manifest, count, seed and the extractor's identity), appears in the
file name and is stored inside the file, and a file whose stored key differs is recomputed.

The metrics need the `InceptionFeatures` extractor (torch); `saturation_metrics` needs nothing.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from gan_core import UserError, atomic
from gan_core.eval.metrics.fid import frechet_distance
from gan_core.eval.metrics.kid import kernel_inception_distance
from gan_core.eval.metrics.precision_recall import precision_recall
from gan_core.eval.metrics.saturation import saturated_fractions

REFERENCE_COUNT = 3000  # training images in the reference set
REFERENCE_SEED = 0  # which training images: rows drawn with numpy's default_rng(seed)
REFERENCE_SIZE = 64  # the stored image size the reference is taken from (the competition's)
KID_SUBSETS = 100  # torch-fidelity's default
KID_SUBSET_SIZE = 1000  # torch-fidelity's default; shrunk to the smaller side when needed
PR_NEIGHBOURS = 3  # k of precision/recall (stylegan2-ada-pytorch's pr50k3)


@dataclass(frozen=True)
class ReferenceSet:
    features: np.ndarray  # float32 [count, 2048]
    mu: np.ndarray  # float64 [2048], mean of the features
    sigma: np.ndarray  # float64 [2048, 2048], unbiased covariance of the features
    key: str  # short hash of everything the features depend on
    count: int
    seed: int

    @property
    def name(self) -> str:
        return f"train{self.count}-seed{self.seed}-{self.key}"


def reference_key(dataset, extractor, count: int, seed: int) -> str:
    """Short hash of the images file, count, seed and extractor identity."""
    parts = {"images": dataset.manifest["files"][f"images_{REFERENCE_SIZE}.npy"]["sha256"],
             "size": REFERENCE_SIZE, "count": int(count), "seed": int(seed), "extractor": extractor.identity}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


def reference_count(dataset) -> int:
    """REFERENCE_COUNT training images, or all of them in a smaller dataset (a test's tiny one)."""
    return min(REFERENCE_COUNT, len(dataset.train_rows))


def reference_rows(dataset, count: int, seed: int) -> np.ndarray:
    """Sorted image rows of the reference set: `count` training rows drawn without replacement."""
    train = np.asarray(dataset.train_rows)
    if not 2 <= count <= len(train):
        raise UserError(f"the reference set needs 2 to {len(train)} training images, asked for {count}")
    return np.sort(np.random.default_rng(seed).choice(train, size=count, replace=False))


def _read_cache(path: Path, key: str) -> ReferenceSet | None:
    try:
        with np.load(path) as stored:
            if str(stored["key"]) != key:
                return None
            return ReferenceSet(stored["features"], stored["mu"], stored["sigma"], key,
                                int(stored["count"]), int(stored["seed"]))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None  # missing, truncated or foreign: recompute


def reference_set(dataset, extractor, count: int | None = None, seed: int = REFERENCE_SEED,
                  progress: Callable[[float, str], None] | None = None) -> ReferenceSet:
    """The reference set's features and statistics, from the dataset's cache or computed and cached
    (count None: reference_count(dataset))."""
    count = reference_count(dataset) if count is None else count
    key = reference_key(dataset, extractor, count, seed)
    path = Path(dataset.root) / "cache" / f"inception_reference_{key}.npz"
    cached = _read_cache(path, key)
    if cached is not None:
        return cached
    rows = reference_rows(dataset, count, seed)
    features = extractor.features(dataset.images(REFERENCE_SIZE)[rows], progress=progress)
    mu, sigma = feature_statistics(features)
    with atomic.atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, features=features, mu=mu, sigma=sigma, key=key, count=count, seed=seed, rows=rows,
                 extractor=extractor.identity)
    return ReferenceSet(features, mu, sigma, key, count, seed)


def reference_features(dataset, extractor, count: int | None = None, seed: int = REFERENCE_SEED,
                       progress: Callable[[float, str], None] | None = None) -> np.ndarray:
    """float32 [count, 2048] Inception features of the reference set (cached, see reference_set)."""
    return reference_set(dataset, extractor, count, seed, progress).features


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """(mean, unbiased covariance) in float64 of features [N, D], as pytorch-fid fits its Gaussian."""
    features = np.asarray(features, dtype=np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def saturation_metrics(images) -> dict:
    """{"saturated_white", "saturated_black"} of images [N, H, W, 3] in [0, 255]; needs no torch."""
    white, black = saturated_fractions(images)
    return {"saturated_white": white, "saturated_black": black}


def realism_metrics(images, fake_features, reference: ReferenceSet) -> dict:
    """FID, KID (mean and std), precision, recall and saturation of generated images.

    images: the generated images [N, H, W, 3] in [0, 255] (for saturation); fake_features: their
    Inception features [N, 2048]; reference: a ReferenceSet. Needs N >= 2; with N <= 3 the
    precision/recall neighbourhood shrinks to N - 1 (a k-th nearest other image must exist).
    """
    fake = np.asarray(fake_features, dtype=np.float64)
    if fake.ndim != 2:
        raise ValueError(f"fake features must be [N, D], got shape {fake.shape}")
    if len(fake) < 2:
        raise UserError(f"FID is undefined for fewer than 2 images (got {len(fake)})")
    if len(images) != len(fake):
        raise ValueError(f"{len(images)} images but {len(fake)} feature rows")
    mu, sigma = feature_statistics(fake)
    try:
        fid = frechet_distance(reference.mu, reference.sigma, mu, sigma)
    except ValueError as error:
        raise UserError(f"FID could not be computed: {error}") from None
    if not np.isfinite(fid):
        raise UserError(f"FID is not finite ({fid}) even with eps on the covariance diagonals")
    kid, kid_std = kernel_inception_distance(reference.features, fake, subsets=KID_SUBSETS,
                                             subset_size=KID_SUBSET_SIZE)
    precision, recall = precision_recall(reference.features, fake, k=min(PR_NEIGHBOURS, len(fake) - 1))
    return {
        "fid_inception": fid,
        "kid_inception": kid,
        "kid_inception_std": kid_std,
        "precision": precision,
        "recall": recall,
        **saturation_metrics(images),
        "inception_reference": reference.name,
        "n_reference": int(reference.count),
    }

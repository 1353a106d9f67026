"""Nearest real images in the flowers evaluator's feature space, with the real-data baseline.

A pixel-space nearest neighbour matches backgrounds: the "nearest real image" of a white trumpet
flower is often a pink flower on a similar green. The evaluator's penultimate features (the same
network that scores the competition) match flowers instead. This module keeps one bank of those
features for the prepared data set's images (all rows, train and test), cached inside the data set
folder as cache/flowers_features_<key>.npz; the key hashes the 64 px images' sha256 and the
evaluator's weights, is stored in the file and checked on read (a mismatch recomputes).

The baseline that gives a distance its meaning: each real test image's distance to its nearest
*training* image in the same space (`real_test_baseline`). A generated image much closer to a
training image than that is a copy; much farther is off the data.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from gan_core import atomic
from gan_core.eval.diversity import nearest_real

FEATURE_SIZE = 64  # the stored image size the bank is taken from (the competition's)


@dataclass(frozen=True)
class FeatureBank:
    features: np.ndarray  # float32 [rows, D]: every image row of the data set, in row order
    train_rows: np.ndarray  # int64: the training rows (what a generated image is compared with)
    test_rows: np.ndarray  # int64
    key: str

    @property
    def train_features(self) -> np.ndarray:
        return self.features[self.train_rows]


def bank_key(dataset, evaluator) -> str:
    parts = {"images": dataset.manifest["files"][f"images_{FEATURE_SIZE}.npy"]["sha256"],
             "evaluator": evaluator.name, "identity": getattr(evaluator, "identity", "")}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


def _read(path: Path, key: str) -> np.ndarray | None:
    try:
        with np.load(path) as stored:
            return stored["features"] if str(stored["key"]) == key else None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None  # missing, truncated or foreign: recompute


def feature_bank(dataset, evaluator, progress: Callable[[float, str], None] | None = None) -> FeatureBank:
    """The evaluator's features of every image of `dataset`, from its cache or computed (a few
    seconds for 8189 images with the flowers evaluator) and cached. An evaluator without an
    `identity` is never cached: its weights cannot be told apart."""
    key = bank_key(dataset, evaluator)
    path = Path(dataset.root) / "cache" / f"flowers_features_{key}.npz"
    identity = getattr(evaluator, "identity", None)
    features = _read(path, key) if identity else None
    if features is None:
        if progress:
            progress(0.0, f"evaluator features of {len(dataset.image_table)} real images")
        images = np.asarray(dataset.images(FEATURE_SIZE), dtype=np.float32)
        _, features = evaluator.predict(images)
        features = np.asarray(features, dtype=np.float32)
        if identity:
            with atomic.atomic_path(path, suffix=".npz") as tmp:
                np.savez(tmp, features=features, key=key)
    return FeatureBank(features, np.asarray(dataset.train_rows, np.int64), np.asarray(dataset.test_rows, np.int64),
                       key)


def nearest_training(query_features, bank: FeatureBank) -> tuple[np.ndarray, np.ndarray]:
    """(data set row int64 [N], distance float64 [N]) of each query's nearest training image."""
    index, distance = nearest_real(query_features, bank.train_features)
    return bank.train_rows[index], distance


def real_test_baseline(bank: FeatureBank) -> np.ndarray:
    """float64 [test images]: each real test image's distance to its nearest training image, the
    reference for a generated image's distance to its nearest training image."""
    _, distance = nearest_real(bank.features[bank.test_rows], bank.train_features)
    return distance


def baseline_summary(distances) -> dict:
    """Median and the 5th and 95th percentiles of a distance sample, for a one-line reference."""
    d = np.asarray(distances, dtype=np.float64)
    return {"median": float(np.median(d)), "p05": float(np.percentile(d, 5)), "p95": float(np.percentile(d, 95)),
            "count": int(len(d))}

"""Reference points of the results table: the real test images, a retrieval method that cannot
invent, and noise. Each gives (images float32 [T, 64, 64, 3] in [0, 255], test IDs) to score."""

from __future__ import annotations

import numpy as np

from gan_core import UserError

BASELINES = ("real", "retrieval", "noise")


def _test_rows(dataset) -> tuple[np.ndarray, np.ndarray]:
    """(image rows, test IDs) of the real test images, in test_captions.csv order."""
    table = dataset.image_table.loc[dataset.test_rows]
    row_of = dict(zip(table["test_id"].astype(int), table.index))
    ids = np.array([int(i) for i in dataset.test_captions["ID"] if int(i) in row_of], dtype=np.int64)
    return np.array([row_of[i] for i in ids], dtype=np.int64), ids


def _captions_for(dataset, ids: np.ndarray) -> list[str]:
    by_id = dict(zip(dataset.test_captions["ID"].astype(int), dataset.test_captions["caption"]))
    missing = [int(i) for i in ids if int(i) not in by_id]
    if missing:
        raise UserError(f"{len(missing)} test ID(s) have no test caption: {', '.join(map(str, missing[:5]))}")
    return [by_id[int(i)] for i in ids]


def baseline_images(kind: str, data_dir, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(images float32 [T, 64, 64, 3] in [0, 255], test IDs int64 [T]) of a reference point.

    real:      the real test images themselves (what the references were computed on)
    retrieval: per test caption, the training image whose caption is most similar by TF-IDF
               cosine among all training captions (a text-to-image method that cannot invent)
    noise:     uniform random pixels, seeded
    """
    from gan_core.data.dataset import PreparedDataset

    if kind not in BASELINES:
        raise UserError(f"unknown baseline {kind!r}; choose one of {', '.join(BASELINES)}")
    dataset = PreparedDataset(data_dir)
    rows, ids = _test_rows(dataset)
    if kind == "real":
        return np.asarray(dataset.images(64))[rows].astype(np.float32), ids
    if kind == "noise":
        rng = np.random.default_rng(seed)
        return rng.integers(0, 256, size=(len(ids), 64, 64, 3)).astype(np.float32), ids
    return np.asarray(dataset.images(64))[retrieval_rows(dataset, _captions_for(dataset, ids))].astype(np.float32), ids


def real_test_images(dataset, ids) -> np.ndarray:
    """uint8 [len(ids), 64, 64, 3]: the real test images of test IDs (a caption's own image)."""
    rows, known = _test_rows(dataset)
    row_of = dict(zip(known.tolist(), rows.tolist()))
    missing = [int(i) for i in ids if int(i) not in row_of]
    if missing:
        raise UserError(f"{len(missing)} test ID(s) have no test image: {', '.join(map(str, missing[:5]))}")
    return np.asarray(dataset.images(64))[[row_of[int(i)] for i in ids]]


def retrieval_rows(dataset, captions: list[str]) -> np.ndarray:
    """Image row of the training caption most similar (TF-IDF cosine) to each caption."""
    from gan_core.data.tfidf import TfidfIndex

    train = dataset.captions[dataset.captions["split"] == "train"]
    if train.empty:
        raise UserError("the dataset has no training captions to retrieve from")
    best, _ = TfidfIndex(train["text"].tolist()).nearest(captions)
    return train["row"].to_numpy()[best]


def caption_classes(dataset, captions: list[str]) -> np.ndarray:
    """The flower class (1..102) of each caption: the class of the image a data-set caption belongs
    to, else of the training image whose caption is most similar (TF-IDF). Evaluation only."""
    from gan_core.data.dataset import load_class_ids

    classes = load_class_ids(dataset.root)
    known = dict(zip(dataset.captions["text"], dataset.captions["row"]))
    rows = np.array([known.get(c, -1) for c in captions], dtype=np.int64)
    unknown = np.flatnonzero(rows < 0)
    if len(unknown):
        rows[unknown] = retrieval_rows(dataset, [captions[i] for i in unknown])
    return classes[rows]


def same_class_grid(dataset, captions: list[str], per_caption: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The real-data reference of a diversity measure: for each caption, `per_caption` training
    images of its class (caption_classes), drawn without replacement where the class has enough.
    -> (uint8 [C, per_caption, 64, 64, 3], class per caption int [C])."""
    from gan_core.data.dataset import load_class_ids

    classes = caption_classes(dataset, captions)
    train = np.asarray(dataset.train_rows)
    train_classes = load_class_ids(dataset.root)[train]
    rng = np.random.default_rng(seed)
    images = np.asarray(dataset.images(64))
    picks = []
    for cls in classes:
        pool = train[train_classes == cls]
        picks.append(rng.choice(pool, per_caption, replace=len(pool) < per_caption))
    return images[np.stack(picks)], classes

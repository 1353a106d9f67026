"""Caption embeddings for exploration: caption sets, colour words, UMAP projections, neighbours.

The embeddings come from a snapshot's text encoder (`Sampler.encode`); the 2-D map is UMAP
(McInnes et al. 2018, umap-learn) with the cosine metric. A projection is computed once per
(text encoder, caption set, parameters) and kept next to the snapshot (gan_core.storage). The user's
own captions are not refitted: each is placed at the similarity-weighted mean position of its
nearest captions in the fitted set, so typing a caption never recomputes the map.

Class ids (`gan_core.data.dataset.load_class_ids`) are joined here for colouring plots only; the GAN
never sees them.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from gan_core import UserError, storage
from gan_core.data.text import normalize

CACHE_VERSION = 2  # 2: layout only, keyed on the text encoder's digest
# Colour word -> colour family, for colouring points; the first colour word in a caption wins.
COLOUR_FAMILIES = {
    "red": "red", "crimson": "red", "scarlet": "red", "maroon": "red", "burgundy": "red",
    "pink": "pink", "magenta": "pink", "fuchsia": "pink",
    "orange": "orange", "peach": "orange", "salmon": "orange",
    "yellow": "yellow", "gold": "yellow", "golden": "yellow",
    "white": "white", "cream": "white", "ivory": "white",
    "purple": "purple", "violet": "purple", "lavender": "purple", "lilac": "purple", "mauve": "purple",
    "blue": "blue", "green": "green", "brown": "brown", "black": "black",
}
NO_COLOUR = "(no colour word)"
_WORD = re.compile(r"[a-z0-9]+")


def colour_word(caption: str) -> str:
    """The colour family of the first colour word in the caption, or NO_COLOUR."""
    for word in _WORD.findall(normalize(caption)):
        if word in COLOUR_FAMILIES:
            return COLOUR_FAMILIES[word]
    return NO_COLOUR


def caption_table(dataset, train_sample: int = 7000, seed: int = 0, with_classes: bool = True) -> pd.DataFrame:
    """The test captions plus a seeded sample of training captions of a PreparedDataset.

    Columns: source ("test"/"train"), id (test ID or image id), caption, colour, class (flower
    class for visualisation only, -1 when unknown). Captions without a letter or digit are dropped.
    """
    test = dataset.test_captions
    rows = [pd.DataFrame({"source": "test", "id": test["ID"].astype(int), "caption": test["caption"].astype(str)})]
    train = dataset.captions[dataset.captions["split"] == "train"]
    if len(train) > train_sample:
        train = train.iloc[np.sort(np.random.default_rng(seed).choice(len(train), train_sample, replace=False))]
    rows.append(pd.DataFrame({"source": "train", "id": train["image_id"].astype(int), "caption": train["text"].astype(str)}))
    table = pd.concat(rows, ignore_index=True)
    table = table[[bool(normalize(c)) for c in table["caption"]]].reset_index(drop=True)
    table["colour"] = [colour_word(c) for c in table["caption"]]
    table["class"] = -1
    if with_classes:
        table["class"] = _classes(dataset, table)
    return table


def _classes(dataset, table: pd.DataFrame) -> np.ndarray:
    from gan_core.data.dataset import load_class_ids

    try:
        classes = load_class_ids(dataset.root)
    except (FileNotFoundError, KeyError, ValueError):
        return np.full(len(table), -1)
    images = dataset.image_table
    by_image = dict(zip(images["image_id"].astype(int), classes))
    by_test = {int(t): classes[r] for r, t in zip(images.index, images.get("test_id", pd.Series(dtype=float)))
               if pd.notna(t)}
    return np.array([int((by_test if s == "test" else by_image).get(int(i), -1))
                     for s, i in zip(table["source"], table["id"])])


def embed(encode: Callable[[list[str]], np.ndarray], captions: Sequence[str], batch: int = 512,
          progress: Callable[[float, str], None] | None = None) -> np.ndarray:
    """float32 [N, D] sentence embeddings, encoded in batches with progress(fraction, message)."""
    out = []
    for start in range(0, len(captions), batch):
        out.append(np.asarray(encode(list(captions[start:start + batch])), dtype=np.float32))
        if progress:
            done = min(start + batch, len(captions))
            progress(done / len(captions), f"encoded {done}/{len(captions)} captions")
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def umap_2d(embeddings: np.ndarray, seed: int = 0, n_neighbors: int = 15, min_dist: float = 0.1) -> np.ndarray:
    """float32 [N, 2] UMAP layout (cosine metric, seeded, so it is reproducible)."""
    import warnings

    import umap

    n = len(embeddings)
    if n < 4:
        raise UserError(f"a map needs at least 4 captions, got {n}")
    reducer = umap.UMAP(n_components=2, n_neighbors=min(n_neighbors, n - 1), min_dist=min_dist, metric="cosine",
                        random_state=seed, init="spectral" if n > 16 else "random")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n_jobs overridden by random_state, etc.
        return reducer.fit_transform(np.asarray(embeddings, dtype=np.float32)).astype(np.float32)


def normalized(embeddings: np.ndarray) -> np.ndarray:
    embeddings = np.asarray(embeddings, dtype=np.float64)
    return embeddings / np.maximum(np.linalg.norm(embeddings, axis=-1, keepdims=True), 1e-12)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(normalized(a[None])[0] @ normalized(b[None])[0])


def nearest_neighbours(embeddings: np.ndarray, query: np.ndarray, k: int = 10,
                       exclude: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The k rows of embeddings [N, D] most cosine-similar to query [D]: (indices, similarities),
    most similar first; `exclude` drops one row (the query itself)."""
    sims = normalized(embeddings) @ normalized(query[None])[0]
    if exclude is not None:
        sims[exclude] = -np.inf
    order = np.argsort(-sims, kind="stable")[:k]
    order = order[np.isfinite(sims[order])]
    return order, sims[order]


def place_new(embeddings: np.ndarray, layout: np.ndarray, new: np.ndarray, k: int = 10) -> np.ndarray:
    """Positions float32 [M, 2] for new embeddings [M, D] in an existing layout: the mean position of
    their k most similar captions, weighted by (positive) similarity."""
    out = np.zeros((len(new), 2), np.float32)
    for i, vector in enumerate(new):
        idx, sims = nearest_neighbours(embeddings, vector, k)
        weights = np.maximum(sims, 1e-6)
        out[i] = (layout[idx] * weights[:, None]).sum(0) / weights.sum()
    return out


def projection_key(encoder_digest: str, captions: Sequence[str], seed: int = 0, n_neighbors: int = 15,
                   min_dist: float = 0.1) -> dict:
    """Everything a 2-D map depends on: the text encoder's weights (not the snapshot: snapshots of a
    run share their frozen encoder, and so their maps), the captions and the UMAP parameters."""
    captions_digest = hashlib.sha256(json.dumps(list(captions)).encode()).hexdigest()[:16]
    return {"format": f"gan_core.umap/{CACHE_VERSION}", "text_encoder": encoder_digest, "captions": captions_digest,
            "count": len(captions), "seed": int(seed), "n_neighbors": int(n_neighbors), "min_dist": float(min_dist)}


def _cached_layout(snapshot_dir: Path, key: dict) -> np.ndarray | None:
    """The layout under `key` in the snapshot's folder, else in a sibling snapshot's (same key, same map)."""
    folders = [snapshot_dir, *sorted(p for p in snapshot_dir.parent.glob("epoch_*") if p != snapshot_dir)]
    for folder in folders:
        result = storage.read_cache(folder, "umap", key)
        if result is not None and len(result.get("layout", [])) == key["count"]:
            return np.asarray(result["layout"], dtype=np.float32).reshape(-1, 2)
    return None


def has_projection(snapshot_dir: str | Path, key: dict) -> bool:
    return _cached_layout(Path(snapshot_dir), key) is not None


def cached_projection(snapshot_dir: str | Path, captions: Sequence[str], encode: Callable[[list[str]], np.ndarray],
                      encoder_digest: str, seed: int = 0, n_neighbors: int = 15, min_dist: float = 0.1,
                      progress: Callable[[float, str], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(embeddings [N, D], layout [N, 2]) of captions under a snapshot's encoder. The layout (the
    slow UMAP fit) is computed once and kept next to the snapshot as a storage cache; the
    embeddings are recomputed (seconds). A read-only snapshot folder only loses the cache."""
    snapshot_dir = Path(snapshot_dir)
    key = projection_key(encoder_digest, captions, seed, n_neighbors, min_dist)
    report = progress or (lambda *_: None)
    layout = _cached_layout(snapshot_dir, key)
    embeddings = embed(encode, captions, progress=lambda f, m: report((0.5 if layout is None else 1.0) * f, m))
    if layout is None:
        report(0.5, f"fitting UMAP on {len(captions)} captions (once per text encoder and caption set)")
        layout = umap_2d(embeddings, seed, n_neighbors, min_dist)
        storage.write_cache(snapshot_dir, "umap", key, {"layout": np.round(layout, 4).tolist()})
        layout = np.asarray(np.round(layout, 4), dtype=np.float32)  # what the cache returns next time
    report(1.0, "done")
    return embeddings, layout

"""Data for the Test captions page: cached per-caption tables (gan_core.eval.per_caption), their
comparison, the page's filters and sorting, and thumbnails. Reading a snapshot's cached table is the
only disk access on a page load; computing one happens only in `compute` (behind the page's button).
A folder's table is never written to disk: it lives in the session (FOLDERS_KEY) for this browser tab.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import loaders
from gan_core import storage
from gan_core.eval.compare import PER_SOURCE, Comparison, compare

FOLDERS_KEY = "test_captions_folders"  # st.session_state: {folder key: PerCaption} computed in this session
SORTABLE = {"term_a": "A's term", "term_b": "B's term", "gap": "gap (A - B)", "id": "test ID",
            "real_class": "true class", "real_top1": "real image's class", "top1_a": "A's class", "top1_b": "B's class",
            "agree_a": "A agrees", "outcome": "outcome", "realism_a": "A's realism", "realism_b": "B's realism",
            "nearest_distance_a": "A's distance to its nearest training image",
            "real_nearest_distance": "real image's distance to its nearest training image", "colours": "colour words",
            "caption": "caption"}


@dataclass(frozen=True)
class Filters:
    colours: tuple[str, ...] = ()  # keep captions naming any of these colour words
    classes: tuple[int, ...] = ()  # keep these real classes
    disagree: bool = False  # A's top-1 class differs from the real image's
    a_loses: bool = False  # B's term is lower than A's (beyond the tie)
    term_range: tuple[float, float] | None = None  # A's term within [low, high]
    text: str = ""  # caption words or a test ID


def evaluator_identity(path: Path) -> str:
    """The flowers evaluator's identity from its weights file (hashed once per file version)."""
    weights = Path(path) / "weights.npz"
    return _identity(str(weights), weights.stat().st_mtime_ns) if weights.is_file() else ""


@st.cache_data(max_entries=4, show_spinner=False)
def _identity(weights: str, stamp: int) -> str:
    return storage.file_identity(weights)


def folder_key(folder: Path) -> tuple:
    """What a folder's table depends on: its files' names, sizes and times (a rewrite is a new key)."""
    files = sorted(p for p in Path(folder).iterdir() if p.is_file())
    return (str(folder),) + tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)


@st.cache_resource(max_entries=8, show_spinner=False)
def _cached_table(path: str, seed: int, psi: float, best_of: int, data_root: str, identity: str, stamp: tuple):
    from gan_core.eval.per_caption import Source, cached_per_caption

    source = Source(Path(path), "snapshot", seed, psi, best_of)
    return cached_per_caption(source, loaders.load_dataset(data_root), identity)


def _stamp(snapshot: Path) -> tuple:
    """The snapshot's cache files with their times: a new or rewritten cache is read again."""
    return tuple((p.name, p.stat().st_mtime_ns) for p in sorted(Path(snapshot).glob("per_caption*.npz")))


def cached_table(source, data_root: str, evaluator_path: Path):
    """A source's table when it is cached (snapshot: on disk; folder: in this session), else None."""
    if source.kind == "folder":
        return st.session_state.get(FOLDERS_KEY, {}).get(folder_key(source.path))
    return _cached_table(str(source.path), source.seed, source.truncation, source.best_of, data_root,
                         evaluator_identity(evaluator_path), _stamp(source.path))


def compute(source, data_root: str, evaluator_path: Path, progress) -> None:
    """The heavy pass (generation + evaluator) for one source; kept next to a snapshot or in the session."""
    from gan_core.eval.per_caption import per_caption

    evaluator = loaders.load_evaluator(str(evaluator_path))
    generate = None
    if source.kind == "snapshot":
        def generate(captions, seeds, psi, best_of):
            return loaders.sampler_pool().run(str(source.path), lambda g: g.generate(captions, seeds, psi, best_of))
    result = per_caption(source, data_root, evaluator, progress=progress, generate=generate)
    if source.kind == "folder":
        st.session_state.setdefault(FOLDERS_KEY, {})[folder_key(source.path)] = result


def compute_realism(source, result, data_root: str, progress) -> None:
    """The Inception pass for a source's realism column (cached next to a snapshot)."""
    from gan_core.eval.per_caption import add_realism

    add_realism(result, data_root, loaders.load_inception(), progress=progress)
    if source.kind == "folder":
        st.session_state.setdefault(FOLDERS_KEY, {})[folder_key(source.path)] = result


def comparison(result_a, result_b) -> Comparison:
    """A against B; without B, A alone (B's columns empty)."""
    if result_b is not None:
        return compare(result_a.table, result_b.table, label_a=result_a.source.label, label_b=result_b.source.label)
    alone = compare(result_a.table, result_a.table, label_a=result_a.source.label, label_b="")
    for name in PER_SOURCE:
        alone.table[f"{name}_b"] = np.nan
    alone.table["gap"], alone.table["outcome"] = np.nan, ""
    alone.table["missing_b"] = False
    return alone


def apply_filters(table: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    keep = pd.Series(True, index=table.index)
    if filters.colours:
        words = table["colours"].astype(str).str.split()
        keep &= words.map(lambda w: bool(set(w) & set(filters.colours)))
    if filters.classes:
        keep &= table["real_class"].isin(filters.classes)
    if filters.disagree:
        keep &= ~table["agree_a"].astype(bool) & ~table["missing_a"].astype(bool)
    if filters.a_loses:
        keep &= table["outcome"] == "B wins"
    if filters.term_range is not None:
        low, high = filters.term_range
        keep &= table["term_a"].between(low, high)
    text = filters.text.strip().lower()
    if text:
        keep &= (table["id"].astype(str) == text) | table["caption"].str.lower().str.contains(text, regex=False)
    return table[keep]


def sort_rows(table: pd.DataFrame, column: str, descending: bool) -> pd.DataFrame:
    """Sorted by one column, missing values last; equal values keep caption order."""
    return table.sort_values(column, ascending=not descending, na_position="last", kind="stable")


def data_uri(image: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(buffer, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def thumbnails(images: np.ndarray, positions, missing=None) -> list[str | None]:
    """Data URIs of images[positions] (None where missing), for st.column_config.ImageColumn."""
    missing = np.zeros(len(positions), bool) if missing is None else np.asarray(missing, bool)
    return [None if gone else data_uri(images[p]) for p, gone in zip(positions, missing)]


@st.cache_data(max_entries=4, show_spinner=False)
def real_images(data_root: str) -> dict[int, np.ndarray]:
    """Test ID -> the real test image (uint8 64x64)."""
    dataset = loaders.load_dataset(data_root)
    table = dataset.image_table[dataset.image_table["test_id"].notna()]
    pictures = np.asarray(dataset.images(64))
    return {int(i): pictures[r] for i, r in zip(table["test_id"].astype(int), table.index)}


@st.cache_data(max_entries=4, show_spinner=False)
def class_samples(data_root: str) -> dict[int, np.ndarray]:
    """Class id -> one real training image of that class (the first in row order)."""
    from gan_core.data.dataset import load_class_ids

    dataset = loaders.load_dataset(data_root)
    classes = load_class_ids(dataset.root)
    pictures = np.asarray(dataset.images(64))
    out: dict[int, np.ndarray] = {}
    for row in dataset.train_rows:
        out.setdefault(int(classes[row]), pictures[row])
    return out


def training_image(data_root: str, row: int) -> np.ndarray:
    return np.asarray(loaders.load_dataset(data_root).images(64)[int(row)])

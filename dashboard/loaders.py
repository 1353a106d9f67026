"""Cached access to gan_core for the pages: one st.cache_resource loader per model, st.cache_data
for arrays. Loaders raise gan_core.UserError with a readable reason; pages show it."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import streamlit as st

from gan_core import UserError
from gan_core.data.dataset import PREPARE_HINT


class SamplerPool:
    """Snapshots that share an architecture share one built, traced gan_core Sampler: switching
    snapshot assigns its weights (~0.1 s) instead of building and tracing a model (~5 s on a busy
    2-core CPU). A lock keeps concurrent sessions from generating with each other's weights."""

    def __init__(self):
        self.lock = threading.RLock()
        self.samplers = {}  # Sampler.architecture_key -> Sampler holding some snapshot's weights

    def run(self, path: str, work):
        """work(sampler) with the snapshot at `path` loaded; a UserError when it cannot be."""
        from gan_core.sample.sampler import Sampler
        from gan_core.sample.snapshot import read_meta, resolve_checkpoint

        path = resolve_checkpoint(path)
        key = Sampler.architecture_key(read_meta(path))  # read_meta migrates: old and new files share a key
        with self.lock:
            sampler = self.samplers.get(key)
            if sampler is None:
                sampler = self.samplers[key] = Sampler.load(path, warn_unknown=False)
            elif sampler.path != path:
                sampler.switch_to(path)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return work(sampler)


@st.cache_resource(show_spinner=False)
def sampler_pool() -> SamplerPool:
    return SamplerPool()


@st.cache_resource(max_entries=16, show_spinner="Loading the snapshot…")
def load_generator(path: str):
    """The snapshot's vocabulary, epoch and whether it can rank (best-of-N), after checking that it loads."""
    return sampler_pool().run(path, lambda g: SimpleNamespace(path=g.path, vocab=g.vocab, epoch=g.epoch,
                                                                can_rank=g.can_rank))


def encode(path: str, captions: list[str]) -> np.ndarray:
    return sampler_pool().run(path, lambda g: g.encode(captions).embeddings)


@st.cache_data(max_entries=32, show_spinner=False)
def text_encoder_digest(path: str) -> str:
    """Read once per snapshot, not on every rerun of a page (a snapshot's weights never change)."""
    from gan_core.sample.snapshot import text_encoder_digest as digest

    return digest(path)


@st.cache_resource(max_entries=2, show_spinner="Opening the data set…")
def load_dataset(root: str):
    from gan_core.data.dataset import PreparedDataset

    if not (Path(root) / "manifest.json").is_file():
        raise UserError(f"No prepared data set at {root}. Prepare it with:\n\n    {PREPARE_HINT}")
    return PreparedDataset(root)


@st.cache_resource(max_entries=1, show_spinner="Loading the FID Inception network…")
def load_inception():
    """The FID Inception feature extractor (torch); a UserError with the install command when missing."""
    from gan_core.eval.evaluate import inception_extractor

    return inception_extractor()


@st.cache_resource(max_entries=2, show_spinner="Loading the flowers evaluator…")
def load_evaluator(path: str):
    """The flowers evaluator saved at `path` (<checkpoints>/evaluator/flowers)."""
    from gan_core.eval.evaluators import get_evaluator

    try:
        return get_evaluator("flowers", checkpoint=path)
    except ImportError as exc:
        raise UserError(f"the flowers evaluator cannot be loaded ({exc})") from None


@st.cache_resource(max_entries=2, show_spinner="Loading the alignment model…")
def load_alignment(path: str):
    """The caption-image alignment model at `path` (<checkpoints>/evaluator/alignment)."""
    try:
        from gan_core.eval.alignment import load_alignment as load
    except ImportError as exc:
        raise UserError(f"the alignment model cannot be loaded ({exc})") from None
    return load(path)


@st.cache_data(max_entries=64, show_spinner=False)
def generate_pairs(snapshot: str, captions: tuple[str, ...], seeds: tuple[int, ...],
                   truncation: float = 1.0, best_of: int = 1) -> np.ndarray:
    """uint8 [N, 64, 64, 3]: one image per (caption, seed) pair (best of N by the GAN's D when N > 1)."""
    return sampler_pool().run(snapshot, lambda g: g.generate(list(captions), list(seeds), truncation, best_of))


@st.cache_data(max_entries=64, show_spinner=False)
def generate_grid(snapshot: str, captions: tuple[str, ...], seeds: tuple[int, ...]) -> np.ndarray:
    """uint8 [C, S, 64, 64, 3]: every caption with every seed."""
    return sampler_pool().run(snapshot, lambda g: g.grid(list(captions), list(seeds)))


@st.cache_data(max_entries=32, show_spinner=False)
def interpolate_noise(snapshot: str, caption: str, seed_a: int, seed_b: int, steps: int, mode: str,
                      truncation: float = 1.0) -> np.ndarray:
    return sampler_pool().run(snapshot, lambda g: g.interpolate_noise(caption, seed_a, seed_b, steps, mode,
                                                                      truncation))


@st.cache_data(max_entries=32, show_spinner=False)
def interpolate_captions(snapshot: str, caption_a: str, caption_b: str, seed: int, steps: int,
                         truncation: float = 1.0) -> np.ndarray:
    return sampler_pool().run(snapshot, lambda g: g.interpolate_captions(caption_a, caption_b, seed, steps,
                                                                         truncation))


@st.cache_data(max_entries=4, show_spinner=False)
def test_captions(data_root: str):
    """The prepared test captions table (ID, caption)."""
    return load_dataset(data_root).test_captions.copy()


@st.cache_data(max_entries=4, show_spinner=False)
def caption_set(data_root: str, train_sample: int):
    """The test captions + a seeded sample of training captions, with colour words and classes."""
    from gan_core.explore.embeddings import caption_table

    return caption_table(load_dataset(data_root), train_sample=train_sample)


@st.cache_data(max_entries=8, show_spinner="Reading the caption map…")
def _projection(snapshot: str, data_root: str, train_sample: int):
    from gan_core.explore.embeddings import cached_projection

    captions = list(caption_set(data_root, train_sample)["caption"])
    return cached_projection(snapshot, captions, lambda c: encode(snapshot, c), text_encoder_digest(snapshot))


def caption_projection(snapshot: str, data_root: str, train_sample: int, progress=None):
    """(caption table, embeddings, 2-D layout), computed once per (snapshot, caption set): on disk
    next to the snapshot and in memory. The first computation reports to progress(fraction, message)
    (outside st.cache_data, which cannot replay progress bars)."""
    from gan_core.explore.embeddings import cached_projection, has_projection, projection_key

    table = caption_set(data_root, train_sample)
    captions = list(table["caption"])
    digest = text_encoder_digest(snapshot)
    if not has_projection(snapshot, projection_key(digest, captions)):
        cached_projection(snapshot, captions, lambda c: encode(snapshot, c), digest, progress=progress)
    embeddings, layout = _projection(snapshot, data_root, train_sample)
    return table, embeddings, layout


def measure_diversity(snapshot: str, captions: tuple[str, ...], seeds: tuple[int, ...], evaluator=None) -> dict:
    """Diversity numbers of one snapshot (gan_core.eval.diversity), computed once and kept next to it."""
    from gan_core.eval.diversity import cached_measure, measure_snapshot

    def compute() -> dict:
        grid = sampler_pool().run(snapshot, lambda g: g.grid(list(captions), list(seeds)))
        return measure_snapshot(grid, evaluator.predict if evaluator is not None else None)

    name = getattr(evaluator, "identity", None) if evaluator is not None else None
    return cached_measure(snapshot, captions, seeds, name, compute)


@st.cache_data(max_entries=8, show_spinner=False)
def failing_seeds(snapshot: str, data_root: str, seeds: tuple[int, ...]) -> dict:
    """Per-seed precision of the snapshot over the probe test captions (gan_core.eval.seed_failures)
    and its baseline, the same captions' real test images: {"captions": [...], "grid": uint8
    [C, S, 64, 64, 3], "verdict": SeedVerdict, "real": float}."""
    from gan_core.eval.baselines import real_test_images
    from gan_core.eval.realism import reference_set
    from gan_core.eval.seed_failures import measure_grid, probe_rows

    dataset = load_dataset(data_root)
    probe = dataset.test_captions.iloc[probe_rows(len(dataset.test_captions))]
    captions = probe["caption"].tolist()
    grid = generate_grid(snapshot, tuple(captions), seeds)
    extractor = load_inception()
    reference = reference_set(dataset, extractor)
    verdict, real = measure_grid(grid, real_test_images(dataset, probe["ID"]), extractor, reference.features)
    return {"captions": captions, "grid": grid, "verdict": verdict, "real": real}


@st.cache_data(max_entries=16, show_spinner="Generating one caption across snapshots…")
def caption_over_snapshots(snapshots: tuple[str, ...], caption: str, seeds: tuple[int, ...]) -> np.ndarray:
    """uint8 [len(snapshots), len(seeds), 64, 64, 3]."""
    return np.stack([sampler_pool().run(s, lambda g: g.generate([caption] * len(seeds), list(seeds)))
                     for s in snapshots])


@st.cache_data(max_entries=16, show_spinner="Searching the training images…")
def nearest_training_images(snapshot: str, data_root: str, caption: str, seeds: tuple[int, ...]):
    """(generated uint8 [S, 64, 64, 3], nearest real training image uint8 [S, 64, 64, 3], RMS pixel
    distance [S]): the memorisation check, in pixel space at 64x64."""
    from gan_core.eval.diversity import nearest_real, pixel_features

    dataset = load_dataset(data_root)
    generated = generate_pairs(snapshot, (caption,) * len(seeds), seeds)
    real = np.asarray(dataset.images(64))[dataset.train_rows]
    index, _ = nearest_real(generated.reshape(len(generated), -1), real.reshape(len(real), -1))
    nearest = real[index]
    distance = np.linalg.norm(pixel_features(generated) - pixel_features(nearest), axis=1)
    return generated, nearest, distance


@st.cache_data(max_entries=8, show_spinner="Measuring real images of the same classes…")
def reference_diversity(data_root: str, captions: tuple[str, ...], per_caption: int,
                        evaluator_path: str | None) -> dict:
    """The references of the diversity numbers, measured like a snapshot: real training images of
    the captions' classes ("real") and one image repeated ("collapse")."""
    from gan_core.eval.baselines import same_class_grid
    from gan_core.eval.diversity import measure_snapshot

    dataset = load_dataset(data_root)
    predict = load_evaluator(evaluator_path).predict if evaluator_path else None
    real, _ = same_class_grid(dataset, list(captions), per_caption)
    collapse = np.broadcast_to(real[:1, :1], real.shape).copy()
    return {"real": measure_snapshot(real, predict), "collapse": measure_snapshot(collapse, predict)}



def snapshot_quality(snapshot: str, data_root: str) -> dict:
    """The cached competition score and flowers FID of a snapshot (seed 0, psi 1), {} when not scored."""
    from gan_core.eval.evaluate import cached_scores

    result = cached_scores(snapshot, load_dataset(data_root)) or {}
    return {k: result.get(k) for k in ("score", "fid_flowers")} if result else {}


@st.cache_data(max_entries=16, show_spinner="Searching the training images…")
def nearest_training_features(snapshot: str, data_root: str, caption: str, seeds: tuple[int, ...],
                              evaluator_path: str):
    """The memorisation check in the flowers evaluator's penultimate features: (generated uint8
    [S, 64, 64, 3], nearest training image uint8 [S, 64, 64, 3], feature distance [S], the real
    baseline: baseline_summary of each test image's distance to its nearest training image)."""
    from gan_core.eval.neighbours import baseline_summary, feature_bank, nearest_training, real_test_baseline

    dataset = load_dataset(data_root)
    evaluator = load_evaluator(evaluator_path)
    bank = feature_bank(dataset, evaluator)
    generated = generate_pairs(snapshot, (caption,) * len(seeds), seeds)
    _, features = evaluator.predict(generated.astype(np.float32))
    rows, distance = nearest_training(np.asarray(features), bank)
    nearest = np.asarray(dataset.images(64))[rows]
    return generated, nearest, distance, baseline_summary(real_test_baseline(bank))


@st.cache_data(max_entries=4, show_spinner="Measuring the real baseline in pixels…")
def pixel_test_baseline(data_root: str, sample: int = 200) -> dict:
    """The pixel-space real baseline: RMS distance of a seeded sample of test images to their
    nearest training image (uint8 rows, chunked by nearest_real: no float copy of the data set)."""
    from gan_core.eval.diversity import nearest_real
    from gan_core.eval.neighbours import baseline_summary

    dataset = load_dataset(data_root)
    images = np.asarray(dataset.images(64))
    test = np.random.default_rng(0).permutation(np.asarray(dataset.test_rows))[:sample]
    train = images[dataset.train_rows].reshape(len(dataset.train_rows), -1)
    _, distance = nearest_real(images[test].reshape(len(test), -1), train)
    return baseline_summary(distance / (255.0 * np.sqrt(train.shape[1])))

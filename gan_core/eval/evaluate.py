"""Everything the results table reports, for a set of test images, a snapshot, or a baseline.

`evaluate_images` takes competition-style images (float32 [N, 64, 64, 3] in [0, 255], decoded and
resized as gan_core.data.imagefolder does) with their test IDs and returns one flat JSON-able dict:

  n_images, evaluator, evaluator_identity
  score, cosine, inception_term      competition score (mean, lower is better) and its two parts
  inception_score                    IS over all images as one split (the competition's)
  inception_score_10, _10_std        IS mean and std over 10 splits (Salimans et al.)
  fid_<evaluator>                    FID to the real test images in the evaluator's feature space
  class_top1, class_top5             share of images whose evaluator top-1 (top-5) contains the
                                     top-1 class of the reference logits of the same test ID
  caption_cosine, r_precision        alignment-model metrics against the test captions (absent,
                                     with `notes`, when no alignment model is available)
  saturated_white, saturated_black   shares of pixels with all channels >= 250 / <= 5
  seconds, seconds_predict           timing
`evaluate_realism` adds fid_inception, kid_inception(_std), precision, recall (the standard FID
Inception features against a fixed set of 3000 training images; gan_core.eval.realism).
`evaluate_checkpoint` generates the 819 test images of a snapshot and caches both kinds of result
next to it (gan_core.storage); gan_core.eval.baselines gives the real / retrieval / noise images.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Callable

import numpy as np

from gan_core import UserError, storage

# baseline_images / retrieval_rows / BASELINES are re-exported for the scripts' and tests' convenience.
from gan_core.eval.baselines import BASELINES, _captions_for, _test_rows, baseline_images, retrieval_rows  # noqa: F401

Progress = Callable[[float, str], None]
CACHE_FORMAT = "gan_core.scores/1"
JPEG_QUALITY = 95  # as gan_core.sample.inference writes the competition images
evaluations_run = 0  # evaluate_images calls in this process (lets tests see a cache hit)


SCORE_FIELDS = ("score", "cosine", "inception_term", "inception_score", "n_images")  # a usable cached score has these
REALISM_FIELDS = ("fid_inception", "kid_inception", "precision", "recall")


def well_formed(result, required) -> bool:
    """Whether a cached result can be trusted: a mapping whose `required` fields, and every other
    numeric field, are finite numbers (a hand-edited or damaged cache is recomputed, not echoed)."""
    if not isinstance(result, dict):
        return False

    def finite(value) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)

    return (all(finite(result.get(name)) for name in required)
            and all(finite(v) for v in result.values() if isinstance(v, (int, float)) and not isinstance(v, bool)))


def _trusted_cache(folder, kind: str, key, required):
    """storage.read_cache, but only a well-formed result (else None: computed again)."""
    result = storage.read_cache(folder, kind, key)
    return result if well_formed(result, required) else None


def _noop(fraction: float, message: str) -> None:
    pass


def _identity(model) -> str:
    return str(getattr(model, "identity", "") or getattr(model, "name", type(model).__name__))


def evaluate_images(images, ids, data_dir, evaluator=None, alignment=None, progress: Progress | None = None) -> dict:
    """The results-table metrics of `images` (float32 [N, 64, 64, 3] in [0, 255]) with test IDs `ids`."""
    global evaluations_run
    from gan_core.data.dataset import PreparedDataset
    from gan_core.eval.alignment import load_alignment
    from gan_core.eval.evaluators import get_evaluator
    from gan_core.eval.metrics import (
        caption_cosine,
        competition_score,
        fid_from_features,
        inception_score,
        r_precision,
        softmax,
    )
    from gan_core.eval.realism import saturation_metrics

    progress = progress or _noop
    t0 = time.perf_counter()
    images = np.asarray(images, dtype=np.float32)
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    if images.ndim != 4 or images.shape[1:] != (64, 64, 3) or len(images) != len(ids) or not len(ids):
        raise ValueError(f"need images [N, 64, 64, 3] with N test IDs, N > 0; got {images.shape} and {len(ids)} IDs")
    evaluations_run += 1
    dataset = PreparedDataset(data_dir)
    evaluator = evaluator or get_evaluator("flowers")
    if evaluator.references is None:
        raise UserError(f"the {evaluator.name} evaluator has no reference logits (test ID -> logits)")
    notes = []
    progress(0.05, f"classifying {len(images)} images with the {evaluator.name} evaluator")
    t_predict = time.perf_counter()
    logits, features = evaluator.predict(images)
    seconds_predict = time.perf_counter() - t_predict
    result = {"n_images": int(len(images)), "evaluator": evaluator.name, "evaluator_identity": _identity(evaluator),
              **competition_score(logits, ids, evaluator.references)}
    probs = softmax(logits)
    if len(images) >= 10:
        result["inception_score_10"], result["inception_score_10_std"] = inception_score(probs, splits=10)
    else:
        notes.append("fewer than 10 images: no 10-split inception score")

    progress(0.35, "features of the real test images (FID)")
    rows, _ = _test_rows(dataset)
    if len(set(ids.tolist())) < len(rows):
        notes.append(f"only {len(set(ids.tolist()))} of the {len(rows)} test images: IS and FID over a subset are "
                     f"not comparable with the full set's, and a submission needs all {len(rows)}")
    real = np.asarray(dataset.images(64))[rows].astype(np.float32)
    _, real_features = evaluator.predict(real)
    if len(images) >= 2 and len(real) >= 2:
        result[f"fid_{evaluator.name}"] = fid_from_features(features, real_features)
    else:
        notes.append("FID needs 2+ images on each side")

    reference_top1 = np.array([int(np.argmax(evaluator.references[int(i)])) for i in ids])
    top5 = np.argsort(-logits, axis=1)[:, :5]
    result["class_top1"] = float(np.mean(top5[:, 0] == reference_top1))
    result["class_top5"] = float(np.mean((top5 == reference_top1[:, None]).any(axis=1)))

    progress(0.7, "caption metrics (alignment model)")
    if alignment is None:
        try:
            alignment = load_alignment()
        except UserError as exc:
            notes.append(f"caption metrics skipped: {exc}")
    if alignment is not None:
        image_emb = alignment.embed_images(images)
        text_emb = alignment.embed_captions(_captions_for(dataset, ids))
        result["caption_cosine"] = caption_cosine(image_emb, text_emb)
        result["alignment_identity"] = _identity(alignment)
        if len(ids) >= 2:
            candidates = min(99, len(ids) - 1)
            result["r_precision"] = r_precision(image_emb, text_emb, candidates=candidates)
            result["r_precision_candidates"] = candidates
    result.update(saturation_metrics(images))
    result["notes"] = notes
    result["seconds_predict"] = round(seconds_predict, 3)
    result["seconds"] = round(time.perf_counter() - t0, 3)
    progress(1.0, "done")
    return result


def jpeg_round_trip(images_uint8: np.ndarray) -> np.ndarray:
    """uint8 [N, H, W, 3] -> float32 [N, 64, 64, 3] in [0, 255]: saved as the competition JPEGs are
    (PIL, quality 95) and read back as the scorer reads a folder, without touching the disk."""
    from PIL import Image

    from gan_core.data.imagefolder import decode_for_scoring

    out = []
    for image in images_uint8:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=JPEG_QUALITY)
        out.append(decode_for_scoring(buffer.getvalue()))
    return np.stack(out).astype(np.float32)


def scores_key(snapshot: Path, dataset, seed: int, evaluator_name: str, evaluator_identity: str,
               references_identity: str, alignment_identity: str, truncation: float = 1.0,
               best_of: int = 1) -> dict:
    """Everything a snapshot's scores depend on; the cache returns a result only under an equal key.
    The truncation psi and best-of N appear only when not 1, so keys written before they existed
    still match."""
    key = {"format": CACHE_FORMAT, "snapshot": storage.file_identity(snapshot / "weights.npz"),
           "evaluator": evaluator_name, "evaluator_identity": evaluator_identity,
           "references": references_identity, "alignment_identity": alignment_identity, "seed": int(seed),
           "test_captions": dataset.manifest["files"]["test_captions.csv"]["sha256"]}
    return with_sampling(key, truncation, best_of)


def with_sampling(key: dict, truncation: float, best_of: int) -> dict:
    """A cache key plus the sampling settings that differ from plain generation."""
    if truncation != 1.0:
        key = {**key, "truncation": float(truncation)}
    return key if best_of == 1 else {**key, "best_of": int(best_of)}


def _shipped_identity(kind: str) -> str:
    """Identity of the shipped flowers evaluator / alignment model from its weights file, without loading it."""
    from gan_core.eval.alignment import DEFAULT_PATH as ALIGNMENT_PATH
    from gan_core.eval.evaluators.flowers import DEFAULT_PATH as FLOWERS_PATH

    path = (FLOWERS_PATH if kind == "evaluator" else ALIGNMENT_PATH) / "weights.npz"
    return storage.file_identity(path) if path.is_file() else ""


def default_scores_key(snapshot, dataset, seed: int = 0) -> dict:
    """The key of a snapshot's scores with the shipped flowers evaluator, its own references and the
    shipped alignment model: what the README table and the dashboard's Scores page show."""
    identity = _shipped_identity("evaluator")
    return scores_key(Path(snapshot), dataset, seed, "flowers", identity, f"own:{identity}", _shipped_identity("alignment"))


def cached_scores(snapshot, dataset, seed: int = 0) -> dict | None:
    """The snapshot's cached default scores (see default_scores_key), or None."""
    return _trusted_cache(snapshot, "scores_flowers", default_scores_key(snapshot, dataset, seed), SCORE_FIELDS)


REALISM_FORMAT = "gan_core.realism/1"


def inception_extractor():
    """The FID Inception feature extractor; a one-line UserError when torch or its package is missing."""
    from gan_core.eval.evaluators.inception_fid import InceptionFeatures

    return InceptionFeatures()


def evaluate_realism(images, data_dir, extractor=None, progress: Progress | None = None) -> dict:
    """Inception-FID, KID, precision/recall (against the dataset's fixed reference set of training
    images, cached) and saturation of images float32 [N, 64, 64, 3] in [0, 255]."""
    from gan_core.data.dataset import PreparedDataset
    from gan_core.eval.realism import realism_metrics, reference_set

    progress = progress or _noop
    dataset = PreparedDataset(data_dir)
    extractor = extractor or inception_extractor()
    reference = reference_set(dataset, extractor, progress=lambda f, m: progress(0.5 * f, f"reference set: {m}"))
    features = extractor.features(images, progress=lambda f, m: progress(0.5 + 0.5 * f, m))
    return realism_metrics(images, features, reference)


def realism_key(snapshot: Path, dataset, seed: int, truncation: float, extractor_identity: str,
                best_of: int = 1) -> dict:
    """Everything a snapshot's realism numbers depend on, the reference set's key included."""
    from types import SimpleNamespace

    from gan_core.eval.realism import REFERENCE_SEED, reference_count, reference_key

    reference = reference_key(dataset, SimpleNamespace(identity=extractor_identity), reference_count(dataset),
                              REFERENCE_SEED)
    key = {"format": REALISM_FORMAT, "snapshot": storage.file_identity(snapshot / "weights.npz"),
           "extractor": extractor_identity, "reference": reference, "seed": int(seed),
           "test_captions": dataset.manifest["files"]["test_captions.csv"]["sha256"]}
    return with_sampling(key, truncation, best_of)


def cached_realism(snapshot, dataset, seed: int = 0) -> dict | None:
    """A snapshot's cached realism numbers (seed 0, psi 1), read without loading torch; None when
    absent or when the Inception network is not installed."""
    from gan_core.eval.evaluators.inception_fid import network_identity

    try:
        identity = network_identity()
    except UserError:
        return None
    return _trusted_cache(snapshot, "realism", realism_key(Path(snapshot), dataset, seed, 1.0, identity),
                          REALISM_FIELDS)


def competition_images(sampler, dataset, seed: int = 0, truncation: float = 1.0,
                       best_of: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(images float32 [T, 64, 64, 3], test IDs) of a sampler for the test captions, with the
    competition's seeds (seed * 100000 + ID), JPEG-encoded and decoded as a written folder is read."""
    from gan_core.sample.inference import COMPETITION_SEED_STRIDE

    ids = dataset.test_captions["ID"].astype(int).to_numpy()
    captions = dataset.test_captions["caption"].tolist()
    generated = sampler.generate(captions, [seed * COMPETITION_SEED_STRIDE + int(i) for i in ids], truncation, best_of)
    return jpeg_round_trip(generated), ids


def evaluate_checkpoint(checkpoint, data_dir, evaluator_name: str = "flowers", progress: Progress | None = None,
                        use_cache: bool = True, seed: int = 0, *, evaluator=None, alignment=None,
                        references: str | Path | None = None, truncation: float = 1.0,
                        inception: bool = False, extractor=None, best_of: int = 1) -> dict:
    """Generate the test images of a snapshot (run dir -> its latest) and evaluate them, with a cache.

    Images are generated with the competition's seeds (seed * 100000 + test ID), JPEG-encoded
    and decoded in memory exactly as `scripts/generate.py --test-captions` + a folder read, so the
    numbers equal those of scoring the written folder. The result is cached next to the snapshot
    under a key naming the snapshot's weights, the evaluator, its reference logits (`references`:
    a pickle that replaced them), the alignment model, the seed and the test captions; any change
    computes (and keeps) a new entry instead of returning or overwriting another's.
    `evaluator` / `alignment` replace the shipped models (keyword only); an evaluator without an
    `identity` (official, inception) is never read from the cache.
    `inception`: also the realism numbers (evaluate_realism), cached separately under their own key
    (the Inception network, the reference set, the snapshot, seed, psi, test captions).
    `truncation` and `best_of` set the sampling (Sampler.generate) and are part of both keys.
    """
    from gan_core.data.dataset import PreparedDataset
    from gan_core.eval.evaluators import get_evaluator
    from gan_core.sample.sampler import Sampler
    from gan_core.sample.snapshot import resolve_checkpoint

    progress = progress or _noop
    snapshot = resolve_checkpoint(checkpoint)
    dataset = PreparedDataset(data_dir)
    kind = f"scores_{evaluator_name}"
    if evaluator is None:
        if evaluator_name == "flowers" and references is None:
            evaluator_identity = _shipped_identity("evaluator")
        else:
            evaluator = get_evaluator(evaluator_name, references=references)
    if evaluator is not None:
        evaluator_identity = getattr(evaluator, "identity", None)
    references_identity = getattr(evaluator, "references_identity", None) or f"own:{evaluator_identity}"
    alignment_identity = _identity(alignment) if alignment is not None else _shipped_identity("alignment")
    key = scores_key(snapshot, dataset, seed, evaluator_name, evaluator_identity, references_identity,
                     alignment_identity, truncation, best_of) if evaluator_identity else None
    result = _trusted_cache(snapshot, kind, key, SCORE_FIELDS) if use_cache and key is not None else None
    cached = result is not None
    realism = rkey = None
    if inception:
        extractor = extractor or inception_extractor()
        rkey = realism_key(snapshot, dataset, seed, truncation, extractor.identity, best_of)
        realism = _trusted_cache(snapshot, "realism", rkey, REALISM_FIELDS) if use_cache else None
        cached = cached and realism is not None
    if cached:
        progress(1.0, f"cached next to {snapshot}")
        return {**result, **(realism or {}), "cached": True}

    progress(0.0, f"generating {len(dataset.test_captions)} test images from {snapshot}")
    sampler = Sampler.load(snapshot, warn_unknown=False)
    images, ids = competition_images(sampler, dataset, seed, truncation, best_of)
    share = 0.5 if inception and realism is None and result is None else 1.0  # of the bar after generating
    if result is None:
        if evaluator is None:
            evaluator = get_evaluator(evaluator_name)
        result = evaluate_images(images, ids, data_dir, evaluator=evaluator, alignment=alignment,
                                 progress=lambda f, m: progress(0.2 + 0.8 * share * f, m))
        result.update(snapshot=str(snapshot), epoch=int(sampler.epoch), seed=int(seed), truncation=float(truncation),
                      best_of=int(best_of))
        if key is not None and getattr(evaluator, "identity", None):
            key = {**key, "evaluator_identity": _identity(evaluator),
                   "alignment_identity": result.get("alignment_identity", "")}
            storage.write_cache(snapshot, kind, key, result)
    if inception and realism is None:
        start = 0.2 + 0.8 * (1.0 - share) if share < 1.0 else 0.2
        realism = evaluate_realism(images, data_dir, extractor,
                                   progress=lambda f, m: progress(start + (1.0 - start) * f, m))
        storage.write_cache(snapshot, "realism", rkey, realism)
    progress(1.0, "done")
    return {**result, **(realism or {}), "cached": False}


def plain_cached_scores(snapshot_dir) -> list[tuple[dict, dict]]:
    """(key, result) of every cached score of the snapshot's own weights with its evaluator's own
    reference logits, competition seed 0 and noise as drawn (no psi, no best-of); entries for other
    weights, references, seeds or sampling and unreadable files are left out."""
    snapshot_dir = Path(snapshot_dir)
    weights = snapshot_dir / "weights.npz"
    identity = storage.file_identity(weights) if weights.is_file() else None
    return [(key, result) for key, result in storage.cached_results(snapshot_dir, "scores")
            if well_formed(result, SCORE_FIELDS) and key.get("evaluator") and key.get("snapshot") == identity
            and str(key.get("references", "")).startswith("own:") and key.get("seed") == 0
            and "truncation" not in key and "best_of" not in key]


def load_cached_scores(snapshot_dir) -> dict[str, dict]:
    """Evaluator name -> the snapshot's plain cached result (`plain_cached_scores`): what the Scores
    page lists."""
    out = {}
    for key, result in plain_cached_scores(snapshot_dir):
        out.setdefault(key["evaluator"], result)
    return out

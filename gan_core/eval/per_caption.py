"""Every test caption on its own: where a source fails and how.

A source is a snapshot (with its competition seed, truncation psi and best-of N) or a folder of
inference images (`inference_23.jpg` or `inference_0023.jpg`). `per_caption` gives one row per
test caption of the prepared data set, in test_captions.csv order:

  id, caption, colours          test ID, caption, its colour words (gan_core.eval.colour's words)
  real_class                    the real test image's flower class (1..102; evaluation only)
  missing                       a folder without this ID: every number below is NaN / -1
  term                          the competition's per-image term: cosine distance between the
                                evaluator's logits of the image and of the real test image
  top1, top5 / real_top1, real_top5   the evaluator's classes (1..102) of the image / the real one
  agree, real_in_top5           top1 == real_top1 / real_top1 among the image's top-5
  realism                       Kynkaanniemi et al.'s realism in the FID Inception features
                                (NaN until `add_realism` ran for the source)
  nearest_row, nearest_distance the nearest training image in the evaluator's features
  real_nearest_distance         the real test image's distance to its nearest training image: the
                                yardstick (far below it: a copy; far above: off the data)

with the source's competition score: mean(term) + 0.5 / IS is exactly evaluate's `score` (IS over
the present images as one split). A snapshot's table and its images (uint8, the JPEG round trip the
score sees) are cached next to it as per_caption_<digest>.npz, the realism column as
per_caption_realism_<digest>.npz; a folder's are never written anywhere (not ours to write into).
"""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gan_core import UserError, atomic, storage
from gan_core.eval.colour import COLOUR_WORD

FORMAT = "gan_core.per_caption/1"
Progress = Callable[[float, str], None]
Generate = Callable[[list, list, float, int], np.ndarray]  # (captions, seeds, psi, N) -> uint8 images
passes_run = 0  # generation + evaluator passes in this process (tests see a cache hit)


@dataclass(frozen=True)
class Source:
    path: Path
    kind: str  # "snapshot" or "folder"
    seed: int = 0  # snapshot: competition seed (image seed = seed * 100000 + test ID)
    truncation: float = 1.0
    best_of: int = 1
    confine: bool = False  # folder: skip files that link outside it (the dashboard's reads)

    @classmethod
    def parse(cls, text, seed: int = 0, truncation: float = 1.0, best_of: int = 1) -> Source:
        """A snapshot dir or run dir (its latest snapshot) or a folder of inference images."""
        from gan_core.sample.snapshot import resolve_checkpoint

        path = Path(str(text))
        if not path.exists():
            raise UserError(f"not found: {path} (give a snapshot, a run dir or a folder of inference images)")
        if (path / "model.json").is_file() or (path / "snapshots").is_dir():
            return cls(resolve_checkpoint(path), "snapshot", int(seed), float(truncation), int(best_of))
        if not path.is_dir():
            raise UserError(f"{path} is neither a snapshot nor a folder of inference images")
        return cls(path, "folder")

    @property
    def label(self) -> str:
        if self.kind == "folder":
            return f"folder {self.path.name}"
        extras = [f"seed {self.seed}"] + ([f"psi {self.truncation:g}"] if self.truncation != 1.0 else []) \
            + ([f"best of {self.best_of}"] if self.best_of != 1 else [])
        return f"{self.path.parent.parent.name}/{self.path.name} ({', '.join(extras)})"


@dataclass
class PerCaption:
    source: Source
    table: pd.DataFrame  # one row per test caption (module docstring)
    images: np.ndarray  # uint8 [T, 64, 64, 3], row-aligned with table; zeros where missing
    summary: dict  # score, cosine, inception_term, inception_score, n_images, n_missing
    key: dict | None = field(default=None, repr=False)  # the cache key (snapshots)


def colour_words(caption: str) -> str:
    """The caption's colour words in order, each once, space-separated ("" when none)."""
    return " ".join(dict.fromkeys(COLOUR_WORD.findall(str(caption).lower())))


def caption_rows(dataset) -> pd.DataFrame:
    """id, caption, colours, real_class, real_row for the test captions (-1: no real image)."""
    from gan_core.data.dataset import load_class_ids

    table = dataset.image_table
    tested = table[table["test_id"].notna()]
    row_of = dict(zip(tested["test_id"].astype(int), tested.index))
    classes = load_class_ids(dataset.root)
    out = pd.DataFrame({"id": dataset.test_captions["ID"].astype(int).to_numpy(),
                        "caption": dataset.test_captions["caption"].astype(str).to_numpy()})
    out["colours"] = [colour_words(c) for c in out["caption"]]
    out["real_row"] = [int(row_of.get(i, -1)) for i in out["id"]]
    out["real_class"] = [int(classes[r]) if r >= 0 else -1 for r in out["real_row"]]
    return out


def _classes(logits: np.ndarray) -> tuple[np.ndarray, list[str]]:
    order = np.argsort(-logits, axis=1)[:, :5] + 1  # class ids are 1-based
    return order[:, 0], [" ".join(map(str, row)) for row in order]


def compute_table(images, ids, dataset, evaluator, bank) -> tuple[pd.DataFrame, dict]:
    """The table and score of images float32 [N, 64, 64, 3] in [0, 255] with test IDs [N]; the
    test captions that have no image come out `missing`."""
    from gan_core.eval.metrics import competition_score, cosine_distance
    from gan_core.eval.neighbours import nearest_training

    images = np.asarray(images, dtype=np.float32)
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    rows = caption_rows(dataset)
    position = {int(i): k for k, i in enumerate(rows["id"])}
    stray = [int(i) for i in ids if int(i) not in position]
    if stray:
        raise UserError(f"{len(stray)} image(s) have test IDs that are not among the {len(rows)} test captions of "
                        f"{dataset.root} (e.g. {', '.join(map(str, stray[:5]))}): a different caption set")
    if not len(ids):
        raise UserError("no image to score")
    logits, features = evaluator.predict(images)  # the one pass, as evaluate_images makes it
    logits = np.asarray(logits)
    references = getattr(evaluator, "references", None) or {}
    if all(int(i) in references for i in rows["id"]):
        real_logits = np.stack([np.asarray(references[int(i)], dtype=np.float64) for i in rows["id"]])
    else:  # another caption set: the references are the evaluator's logits of its real images
        if (rows["real_row"] < 0).any():
            raise UserError(f"{int((rows['real_row'] < 0).sum())} test captions of {dataset.root} have neither a real "
                            f"image nor reference logits: nothing to compare their images with")
        real = np.asarray(dataset.images(64))[rows["real_row"]].astype(np.float32)
        real_logits = np.asarray(evaluator.predict(real)[0], dtype=np.float64)
        references = dict(zip(rows["id"].astype(int), real_logits))
    summary = competition_score(logits, ids, references)  # exactly evaluate_images' numbers
    at = np.array([position[int(i)] for i in ids])
    table = rows.drop(columns="real_row")
    table["missing"] = True
    table.loc[at, "missing"] = False
    term = np.full(len(rows), np.nan)
    term[at] = cosine_distance(logits, real_logits[at])
    table["term"] = term
    top1, top5 = np.full(len(rows), -1), [""] * len(rows)
    got1, got5 = _classes(logits)
    top1[at] = got1
    for k, text in zip(at, got5):
        top5[k] = text
    table["top1"], table["top5"] = top1, top5
    table["real_top1"], table["real_top5"] = _classes(real_logits)
    table["agree"] = table["top1"] == table["real_top1"]
    table["real_in_top5"] = [str(r) in t.split() for r, t in zip(table["real_top1"], table["top5"])]
    table["realism"] = np.nan
    nearest, distance = nearest_training(np.asarray(features), bank)
    table["nearest_row"], table["nearest_distance"] = -1, np.nan
    table.loc[at, "nearest_row"], table.loc[at, "nearest_distance"] = nearest, distance
    real_rows = rows["real_row"].to_numpy()
    real_distance = np.full(len(rows), np.nan)
    has_real = real_rows >= 0
    if has_real.any():
        _, real_distance[has_real] = nearest_training(bank.features[real_rows[has_real]], bank)
    table["real_nearest_distance"] = real_distance
    summary.update(n_images=len(ids), n_missing=int(table["missing"].sum()))
    return table, summary


def table_key(source: Source, dataset, evaluator_identity: str, bank_key: str) -> dict:
    """Everything a snapshot's table depends on (an equal key, and only that, reads the cache)."""
    from gan_core.eval.evaluate import with_sampling

    key = {"format": FORMAT, "snapshot": storage.file_identity(source.path / "weights.npz"),
           "evaluator_identity": evaluator_identity, "bank": bank_key, "seed": source.seed,
           "test_captions": dataset.manifest["files"]["test_captions.csv"]["sha256"]}
    return with_sampling(key, source.truncation, source.best_of)


def _cache_file(folder: Path, kind: str, key: dict) -> Path:
    return folder / f"{kind}_{storage.key_digest(key)}.npz"


def _write(path: Path, key: dict, **arrays) -> None:
    try:
        # not compressed: JPEG-decoded 64 px tiles barely shrink (9.5 of 10 MB) and reading is much faster
        with atomic.atomic_path(path, suffix=".npz") as tmp:
            np.savez(tmp, key=json.dumps(key, sort_keys=True), **arrays)
    except (OSError, UserError):
        pass  # a read-only snapshot folder only loses the cache


def _read(path: Path, key: dict) -> dict | None:
    try:
        with np.load(path, allow_pickle=False) as stored:
            if str(stored["key"]) != json.dumps(key, sort_keys=True):
                return None
            return {name: stored[name] for name in stored.files}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None  # missing, truncated or foreign: recompute


def _to_arrays(result: PerCaption) -> dict:
    """Columns as plain arrays (text as unicode, never objects: the cache loads without pickle)."""
    columns = {f"col_{name}": (values.astype(str) if values.dtype == object else values)
               for name, values in ((n, result.table[n].to_numpy()) for n in result.table.columns)}
    return {**columns, "images": result.images, "summary": json.dumps(result.summary)}


def _from_arrays(source: Source, stored: dict, key: dict) -> PerCaption:
    table = pd.DataFrame({name[4:]: stored[name] for name in stored if name.startswith("col_")})
    return PerCaption(source, table, stored["images"], json.loads(str(stored["summary"])), key)


def _bank_key(dataset, evaluator_identity: str) -> str:
    from types import SimpleNamespace

    from gan_core.eval.neighbours import bank_key

    return bank_key(dataset, SimpleNamespace(name="flowers", identity=evaluator_identity))


def cache_file(source: Source, dataset, evaluator_identity: str) -> tuple[Path, dict]:
    """(where a snapshot's table is cached, its key) for the flowers evaluator of that identity."""
    key = table_key(source, dataset, evaluator_identity, _bank_key(dataset, evaluator_identity))
    return _cache_file(source.path, "per_caption", key), key


def cached_per_caption(source: Source, dataset, evaluator_identity: str) -> PerCaption | None:
    """A snapshot's cached table with the flowers evaluator of that identity, read without loading
    a model (None for a folder or a miss); its realism column filled when that is cached too."""
    if source.kind != "snapshot":
        return None
    path, key = cache_file(source, dataset, evaluator_identity)
    stored = _read(path, key)
    if stored is None:
        return None
    result = _from_arrays(source, stored, key)
    realism = cached_realism(result, dataset)
    if realism is not None:
        result.table["realism"] = realism
    return result


def source_images(source: Source, dataset, generate: Generate | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images float32 [N, 64, 64, 3] as scored, test IDs): a snapshot's competition images or a folder's."""
    from gan_core.eval.evaluate import jpeg_round_trip
    from gan_core.sample.inference import COMPETITION_SEED_STRIDE

    if source.kind == "folder":
        from gan_core.data.imagefolder import load_image_folder

        images, ids, _, _ = load_image_folder(source.path, confine=source.confine)
        return images, ids
    ids = dataset.test_captions["ID"].astype(int).to_numpy()
    captions = dataset.test_captions["caption"].astype(str).tolist()
    seeds = [source.seed * COMPETITION_SEED_STRIDE + int(i) for i in ids]
    if generate is None:
        from gan_core.sample.sampler import Sampler

        sampler = Sampler.load(source.path, warn_unknown=False)
        generate = sampler.generate
    return jpeg_round_trip(generate(captions, seeds, source.truncation, source.best_of)), ids


def per_caption(source: Source, data_dir, evaluator=None, use_cache: bool = True, progress: Progress | None = None,
                generate: Generate | None = None) -> PerCaption:
    """The per-caption table of a source (module docstring), from the cache or computed (and, for a
    snapshot, cached). `evaluator`: the flowers evaluator (default: the shipped one); `generate`:
    a snapshot's generation function when the caller already holds the model (the dashboard)."""
    from gan_core.data.dataset import PreparedDataset
    from gan_core.eval.evaluators import get_evaluator

    progress = progress or (lambda f, m: None)
    dataset = PreparedDataset(data_dir)
    evaluator = evaluator or get_evaluator("flowers")
    identity = str(getattr(evaluator, "identity", "") or "")
    if use_cache and identity:
        cached = cached_per_caption(source, dataset, identity)
        if cached is not None:
            progress(1.0, f"cached next to {source.path}")
            return cached
    progress(0.05, f"{'generating' if source.kind == 'snapshot' else 'reading'} the images of {source.label}")
    t0 = time.perf_counter()
    images, ids = source_images(source, dataset, generate)
    progress(0.5, "the evaluator's pass and the nearest training images")
    result = images_table(images, ids, dataset, evaluator, source)
    result.summary["seconds"] = round(time.perf_counter() - t0, 3)
    if result.key is not None:
        _write(_cache_file(source.path, "per_caption", result.key), result.key, **_to_arrays(result))
    progress(1.0, "done")
    return result


def images_table(images, ids, dataset, evaluator, source: Source) -> PerCaption:
    """The PerCaption of images already in hand (float32 [N, 64, 64, 3] in [0, 255], test IDs);
    `source` names them (and keys a snapshot's cache)."""
    global passes_run
    from gan_core.eval.neighbours import feature_bank

    bank = feature_bank(dataset, evaluator)
    passes_run += 1
    table, summary = compute_table(images, ids, dataset, evaluator, bank)
    position = {int(i): k for k, i in enumerate(table["id"])}
    stored = np.zeros((len(table), 64, 64, 3), np.uint8)
    stored[[position[int(i)] for i in np.asarray(ids).reshape(-1)]] = np.clip(np.rint(images), 0, 255).astype(np.uint8)
    summary.update(source=source.label, kind=source.kind)
    identity = str(getattr(evaluator, "identity", "") or "")
    key = table_key(source, dataset, identity, bank.key) if source.kind == "snapshot" and identity else None
    return PerCaption(source, table, stored, summary, key)


def _realism_key(result: PerCaption, extractor_identity: str, reference_name: str) -> dict:
    return {"table": result.key, "extractor": extractor_identity, "reference": reference_name}


def cached_realism(result: PerCaption, dataset) -> np.ndarray | None:
    """The realism column of a cached snapshot table, read without torch; None when not computed
    (or when the Inception network is not installed)."""
    from types import SimpleNamespace

    from gan_core.eval.evaluators.inception_fid import network_identity
    from gan_core.eval.realism import REFERENCE_SEED, reference_count, reference_key

    if result.key is None:
        return None
    try:
        identity = network_identity()
    except UserError:
        return None
    count = reference_count(dataset)
    name = f"train{count}-seed{REFERENCE_SEED}-" \
           f"{reference_key(dataset, SimpleNamespace(identity=identity), count, REFERENCE_SEED)}"
    key = _realism_key(result, identity, name)
    stored = _read(_cache_file(result.source.path, "per_caption_realism", key), key)
    return None if stored is None else stored["realism"]


def add_realism(result: PerCaption, data_dir, extractor=None, progress: Progress | None = None) -> PerCaption:
    """Fill the realism column (Inception features of the present images against the fixed reference
    set of training images, gan_core.eval.realism); cached next to a snapshot."""
    from gan_core.data.dataset import PreparedDataset
    from gan_core.eval.evaluate import inception_extractor
    from gan_core.eval.metrics.realism_score import realism_scores
    from gan_core.eval.realism import PR_NEIGHBOURS, reference_set

    progress = progress or (lambda f, m: None)
    extractor = extractor or inception_extractor()
    reference = reference_set(PreparedDataset(data_dir), extractor,
                              progress=lambda f, m: progress(0.5 * f, f"reference set: {m}"))
    present = ~result.table["missing"].to_numpy(bool)
    features = extractor.features(result.images[present].astype(np.float32),
                                  progress=lambda f, m: progress(0.5 + 0.45 * f, m))
    realism = np.full(len(result.table), np.nan)
    realism[present] = realism_scores(reference.features, features, k=PR_NEIGHBOURS)
    result.table["realism"] = realism
    if result.key is not None:
        key = _realism_key(result, extractor.identity, reference.name)
        _write(_cache_file(result.source.path, "per_caption_realism", key), key, realism=realism)
    progress(1.0, "done")
    return result


def write_csv(table: pd.DataFrame, path) -> None:
    """The table as CSV, atomically (NaN as empty cells)."""
    atomic.write_text(path, table.to_csv(index=False, float_format="%.6g"))

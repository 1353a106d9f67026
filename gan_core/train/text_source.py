"""Where a run's frozen, pretrained text encoder comes from, resolved before the run dir is touched.

In order: the run's own text_encoder.npz (a resumed run); `--text-encoder PATH` (a snapshot, a
run dir, or checkpoints/default); the machine's cache of pretrained encoders, keyed by the
dataset's fingerprint, the text config and the seed; else contrastive pretraining (~13 min on
2 CPU cores), whose result is added to the cache. A vocabulary or size that does not match the
run is a one-line error: token ids would index the wrong embedding rows.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_core import UserError, legacy, storage
from gan_core.config import TextEncoderConfig

GROUP = "text_encoder"
CACHE_ENV = "GAN_CACHE_DIR"
# The text config fields that shape the weights (the rest only steer pretraining).
SHAPE_FIELDS = ("embed_dim", "hidden")


@dataclass
class TextEncoderSource:
    arrays: dict[str, np.ndarray]  # "text_encoder/NNNN:path" -> weights
    origin: str  # what the log and text_encoder.json say
    pretrain: dict | None = None  # the pretraining result, when known


def cache_dir() -> Path:
    """$GAN_CACHE_DIR, else $XDG_CACHE_HOME/gan_core, else ~/.cache/gan_core."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gan_core"


def cache_key(dataset, text: TextEncoderConfig, seed: int) -> dict:
    """Everything a pretrained encoder depends on: the data it saw, its config and its seed."""
    files = dataset.manifest["files"]
    return {"format": "gan_core.text_encoder/1", "seed": int(seed), "text": dataclasses.asdict(text),
            **{name: files[name]["sha256"] for name in ("images_64.npy", "tokens.npy", "captions.csv", "vocab.json")}}


def _check_vocab(words: list, max_len: int, dataset, where: str) -> None:
    ours = dataset.vocab
    if list(words) != list(ours.words) or int(max_len) != int(ours.max_len):
        raise UserError(f"the text encoder in {where} has another vocabulary ({len(words)} words, max length "
                        f"{max_len}) than the dataset ({len(ours.words)} words, max length {ours.max_len}); "
                        f"use an encoder trained on the same prepared data")


def _check_shape(saved_text: dict, text: TextEncoderConfig, where: str) -> None:
    differ = [f"{k} {saved_text.get(k)} vs {getattr(text, k)}" for k in SHAPE_FIELDS if saved_text.get(k) != getattr(text, k)]
    if differ:
        raise UserError(f"the text encoder in {where} does not fit this run's model.text ({', '.join(differ)}); "
                        f"set them equal with --set model.text.<field>=...")


def from_path(path: str | Path, dataset, text: TextEncoderConfig) -> TextEncoderSource:
    """The encoder of a snapshot dir or a run dir (its text_encoder.npz, else its latest snapshot)."""
    from gan_core.sample.snapshot import read_meta, read_weights, resolve_checkpoint

    path = Path(path)
    run_file = path / "text_encoder.npz"
    if run_file.is_file() and (path / "config.json").is_file():
        saved = legacy.migrate_run_config(json.loads((path / "config.json").read_text()))
        vocab = json.loads((path / "vocab.json").read_text()) if (path / "vocab.json").is_file() else None
        if vocab is None:
            raise UserError(f"{path} has text_encoder.npz but no vocab.json")
        _check_vocab(vocab["words"], vocab["max_len"], dataset, str(path))
        _check_shape(saved["model"]["text"], text, str(path))
        return TextEncoderSource(legacy.migrate_weight_keys(storage.read_weights(run_file), GROUP), str(path))
    snapshot = resolve_checkpoint(path)
    meta = read_meta(snapshot)
    if meta["model"].get("text", {}).get("mode") != "pretrained":
        raise UserError(f"the text encoder of {snapshot} was trained jointly with its GAN, not pretrained and frozen")
    _check_vocab(meta["vocab"]["words"], meta["vocab"]["max_len"], dataset, str(snapshot))
    _check_shape(meta["model"]["text"], text, str(snapshot))
    arrays = {k: v for k, v in read_weights(snapshot).items() if k.startswith(GROUP + "/")}
    return TextEncoderSource(arrays, str(snapshot))


def load_run_file(text_encoder, path: Path) -> None:
    """Assign a run dir's text_encoder.npz (today's keys or the old ones) to `text_encoder`."""
    arrays = legacy.migrate_weight_keys(storage.read_weights(path), GROUP)
    storage.assign_weights(text_encoder, arrays, GROUP, source=str(path))


def from_cache(dataset, text: TextEncoderConfig, seed: int) -> TextEncoderSource | None:
    key = cache_key(dataset, text, seed)
    folder = cache_dir()
    meta = storage.read_cache(folder, "text_encoder", key)
    weights = storage.cache_path(folder, "text_encoder", key).with_suffix(".npz")
    if meta is None or not weights.is_file():
        return None
    try:
        arrays = storage.read_weights(weights, GROUP)
    except UserError:
        return None  # a damaged cache entry is pretrained again
    return TextEncoderSource(arrays, f"cache {weights}", meta.get("pretrain"))


def add_to_cache(dataset, text: TextEncoderConfig, seed: int, text_encoder, pretrain: dict) -> None:
    """Keep a freshly pretrained encoder for the next run; a cache that cannot be written is skipped."""
    key = cache_key(dataset, text, seed)
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        storage.save_weights(storage.cache_path(folder, "text_encoder", key).with_suffix(".npz"), storage.weight_arrays(text_encoder, GROUP))
    except OSError:
        return
    storage.write_cache(folder, "text_encoder", key, {"pretrain": pretrain})

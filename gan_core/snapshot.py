"""Snapshots: the light, generation-only part of a run at one epoch.

snapshots/epoch_NNNN/
  model.json   format, model config, vocabulary, epoch, step, precision
  weights.npz  text encoder + EMA generator variables, keyed by index and variable path
  samples.png  the run's fixed sample grid (same captions and seeds in every snapshot)
Written as a whole directory (atomic rename): a snapshot either exists complete or not at all.
"""

from __future__ import annotations

import dataclasses
import json
import re
import zipfile
from pathlib import Path

import numpy as np

from . import UserError, atomic
from .config import ModelConfig, TextEncoderConfig, with_legacy_fields
from .text import Vocabulary

FORMAT = "gan_core.snapshot/1"
_SNAPSHOT_DIR = re.compile(r"^epoch_(\d{4,})$")


def snapshot_name(epoch: int) -> str:
    return f"epoch_{epoch:04d}"


def list_snapshots(run_dir: str | Path) -> list[Path]:
    """Complete snapshots of a run, oldest first (temporary leftovers are ignored)."""
    root = Path(run_dir) / "snapshots"
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if _SNAPSHOT_DIR.match(p.name) and (p / "model.json").is_file()]
    return sorted(found, key=lambda p: int(_SNAPSHOT_DIR.match(p.name).group(1)))


def _weights_dict(prefix: str, model, dtype) -> dict[str, np.ndarray]:
    out = {}
    for i, var in enumerate(model.weights):
        value = np.asarray(var.numpy())
        if dtype is not None and value.dtype.kind == "f":
            value = value.astype(dtype)
        out[f"{prefix}/{i:04d}:{var.path}"] = value
    return out


def save_snapshot(path: str | Path, model_config: ModelConfig, vocab: Vocabulary, text_encoder, generator,
                  epoch: int, step: int, precision: str, samples_png: bytes | None = None,
                  extra: dict | None = None, float16: bool = False) -> Path:
    meta = {
        "format": FORMAT,
        "model": dataclasses.asdict(model_config),
        "vocab": vocab.to_json(),
        "epoch": int(epoch),
        "step": int(step),
        "precision": precision,
        "weights_dtype": "float16" if float16 else "float32",
        **(extra or {}),
    }
    with atomic.atomic_dir(path) as tmp:
        weights = {**_weights_dict("text_encoder", text_encoder, None),
                   **_weights_dict("generator", generator, np.float16 if float16 else None)}
        np.savez(tmp / "weights.npz", **weights)
        (tmp / "model.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
        if samples_png is not None:
            (tmp / "samples.png").write_bytes(samples_png)
    return Path(path)


def read_meta(path: str | Path) -> dict:
    path = Path(path)
    try:
        meta = json.loads((path / "model.json").read_text())
    except FileNotFoundError:
        raise UserError(f"{path} is not a snapshot (no model.json)") from None
    except ValueError:
        raise UserError(f"snapshot {path} is corrupt (model.json is not valid JSON)") from None
    if meta.get("format") != FORMAT:
        raise UserError(f"snapshot {path} has format {meta.get('format')!r}, expected {FORMAT!r}")
    return meta


def model_config_from_meta(meta: dict) -> ModelConfig:
    model = with_legacy_fields(dict(meta["model"]))
    model["text"] = TextEncoderConfig(**model["text"])
    return ModelConfig(**model)


def _read_weights(path: Path, prefix: str = "") -> dict[str, np.ndarray]:
    """weights.npz's arrays whose keys start with `prefix`; a corrupt file is a UserError."""
    try:
        with np.load(path / "weights.npz") as data:
            return {k: data[k] for k in data.files if k.startswith(prefix)}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise UserError(f"snapshot {path} is corrupt (weights.npz unreadable: {exc})") from None


def load_weights_into(path: str | Path, text_encoder, generator) -> None:
    """Assign a snapshot's weights, checking count and shapes: a mismatch is a clear error."""
    path = Path(path)
    arrays = _read_weights(path)
    for prefix, model in (("text_encoder", text_encoder), ("generator", generator)):
        keys = sorted(k for k in arrays if k.startswith(prefix + "/"))
        if len(keys) != len(model.weights):
            raise UserError(f"snapshot {path}: {len(keys)} {prefix} weights stored, model has {len(model.weights)}")
        for key, var in zip(keys, model.weights):
            value = arrays[key]
            if tuple(value.shape) != tuple(var.shape):
                raise UserError(f"snapshot {path}: {key} has shape {value.shape}, model expects {tuple(var.shape)}")
            var.assign(value.astype(var.dtype))


def text_encoder_digest(path: str | Path) -> str:
    """A hash of a snapshot's text-encoder weights: equal for snapshots whose encoder is the same
    (a pretrained encoder stays frozen while the GAN trains), so their caption embeddings are too."""
    import hashlib

    digest = hashlib.sha256()
    for key, value in sorted(_read_weights(Path(path), "text_encoder/").items()):
        value = np.ascontiguousarray(value)
        digest.update(f"{key}:{value.dtype}:{value.shape}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def resolve_checkpoint(path: str | Path) -> Path:
    """A snapshot dir, or a run dir (-> its latest snapshot)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"checkpoint not found: {path}")
    if (path / "model.json").is_file():
        return path
    if path.is_dir():
        snaps = list_snapshots(path)
        if snaps:
            return snaps[-1]
        raise UserError(f"{path} has no snapshot yet (expected {path}/snapshots/epoch_NNNN/model.json)")
    raise UserError(f"{path} is neither a snapshot nor a run dir")

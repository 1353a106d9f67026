"""Snapshots: the light, generation-only part of a run at one epoch.

snapshots/epoch_NNNN/
  model.json   format, model config, vocabulary, epoch, step, precision
  weights.npz  text encoder + generator variables (the generator's EMA when ema_decay > 0), via gan_core.storage;
               optionally the run's discriminator too ("has_discriminator" in model.json), which
               best-of-N sampling uses to rank candidate images (Sampler's best_of)
  samples.png  the run's fixed sample grid (same captions and seeds in every snapshot)
Written as a whole directory (atomic rename): a snapshot either exists complete or not at all.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np

from gan_core import UserError, atomic, legacy, storage
from gan_core.config import ModelConfig
from gan_core.data.text import Vocabulary
from gan_core.outputs import stored_format

FORMAT = "gan_core.snapshot/1"
_SNAPSHOT_DIR = re.compile(r"^epoch_(\d{4,})$")


def snapshot_name(epoch: int) -> str:
    return f"epoch_{epoch:04d}"


def snapshot_epoch(name: str) -> int | None:
    """The epoch in a snapshot's folder name (epoch_NNNN), or None for any other name."""
    match = _SNAPSHOT_DIR.match(name)
    return int(match.group(1)) if match else None


def list_snapshots(run_dir: str | Path) -> list[Path]:
    """Complete snapshots of a run, oldest first (temporary leftovers are ignored)."""
    root = Path(run_dir) / "snapshots"
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if snapshot_epoch(p.name) is not None and (p / "model.json").is_file()]
    return sorted(found, key=lambda p: snapshot_epoch(p.name))


def save_snapshot(path: str | Path, model_config: ModelConfig, vocab: Vocabulary, text_encoder, generator,
                  epoch: int, step: int, precision: str, samples_png: bytes | None = None,
                  extra: dict | None = None, float16: bool = False, discriminator=None) -> Path:
    meta = {
        "format": FORMAT,
        "model": dataclasses.asdict(model_config),
        "vocab": vocab.to_json(),
        "epoch": int(epoch),
        "step": int(step),
        "precision": precision,
        "weights_dtype": "float16" if float16 else "float32",
        "has_discriminator": discriminator is not None,
        **(extra or {}),
    }
    arrays = {**storage.weight_arrays(text_encoder, "text_encoder", float16),
              **storage.weight_arrays(generator, "generator", float16)}
    if discriminator is not None:
        arrays.update(storage.weight_arrays(discriminator, "discriminator", float16))
    with atomic.atomic_dir(path, owned=is_snapshot) as tmp:
        storage.save_weights(tmp / "weights.npz", arrays)
        (tmp / "model.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
        if samples_png is not None:
            (tmp / "samples.png").write_bytes(samples_png)
    return Path(path)


def is_snapshot(path: Path) -> bool:
    """Whether `path` is a snapshot folder (what save_snapshot may replace): its model.json names the format."""
    return stored_format(path, "model.json") == FORMAT


def read_meta(path: str | Path) -> dict:
    path = Path(path)
    try:
        meta = json.loads((path / "model.json").read_text())
    except FileNotFoundError:
        raise UserError(f"{path} is not a snapshot (no model.json)") from None
    except ValueError:
        raise UserError(f"snapshot {path} is corrupt (model.json is not valid JSON)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise UserError(f"snapshot {path} has format {meta.get('format') if isinstance(meta, dict) else None!r}, "
                        f"expected {FORMAT!r}")
    return legacy.migrate_snapshot_meta(meta)


def model_config_from_meta(meta: dict) -> ModelConfig:
    """The ModelConfig of a (migrated) model.json; a malformed one is a UserError."""
    from gan_core.config import model_from_dict

    try:
        return model_from_dict(meta["model"])
    except (KeyError, TypeError, ValueError, UserError) as exc:
        raise UserError(f"snapshot model config is corrupt ({exc})") from None


def read_weights(path: str | Path) -> dict[str, np.ndarray]:
    """A snapshot's weights.npz; a corrupt file is a UserError naming the snapshot."""
    path = Path(path)
    try:
        return storage.read_weights(path / "weights.npz")
    except UserError:
        raise UserError(f"snapshot {path} is corrupt or incomplete (weights.npz unreadable)") from None


def has_discriminator(meta: dict) -> bool:
    """Whether a snapshot (its model.json) holds the run's discriminator, for best-of-N sampling."""
    return bool(meta.get("has_discriminator", False))


def load_weights_into(path: str | Path, text_encoder, generator, discriminator=None) -> None:
    """Assign a snapshot's weights, checking count, shapes and values: a mismatch, or a NaN or inf
    (which would draw black images without a word), is a clear error."""
    arrays = read_weights(path)
    bad = sorted(k for k, v in arrays.items() if np.issubdtype(v.dtype, np.floating) and not np.isfinite(v).all())
    if bad:
        raise UserError(f"snapshot {path} holds non-finite weights (NaN or inf) in {len(bad)} array(s), e.g. {bad[0]}")
    storage.assign_weights(text_encoder, arrays, "text_encoder", source=f"snapshot {path}")
    storage.assign_weights(generator, arrays, "generator", source=f"snapshot {path}")
    if discriminator is not None:
        storage.assign_weights(discriminator, arrays, "discriminator", source=f"snapshot {path}")


def text_encoder_digest(path: str | Path) -> str:
    """A hash of a snapshot's text-encoder weights: equal for snapshots whose encoder is the same
    (a pretrained encoder stays frozen while the GAN trains), so their caption embeddings are too."""
    arrays = read_weights(path)
    return storage.arrays_digest({k: v for k, v in arrays.items() if k.startswith("text_encoder/")})


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

"""Storage: the one io for model weights and per-snapshot caches.

Weights: one .npz per model file, arrays keyed "<group>/<index>:<variable path>" (index in
`model.weights` order, 4 digits; groups such as "text_encoder", "generator"; files written before
groups existed use "<index>:<path>", read with group ""). One float16 rule: `float16=True` stores
floating arrays of rank >= 2 (kernels, embeddings) as float16 and keeps vectors and scalars
(biases, gains) in float32; everything is cast to the variable's dtype on load. Written atomically.

Caches: a JSON file {"format", "key", "result"} whose `key` names everything the result depends
on (model identities, seeds, data checksums, references); `read_cache` returns the result only
when the stored key equals the wanted one, so a changed input never returns a stale number.
Files are named "<kind>_<digest of key>.json", so results under different keys sit side by side
instead of overwriting each other.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Mapping

import numpy as np

from gan_core import UserError, atomic

CACHE_FORMAT = "gan_core.cache/1"


# -- weights ----------------------------------------------------------------------------------
def to_stored(value, float16: bool = False) -> np.ndarray:
    """One array under the float16 rule above (non-float arrays pass through)."""
    value = np.asarray(value)
    if value.dtype.kind != "f":
        return value
    return value.astype(np.float16 if float16 and value.ndim >= 2 else np.float32)


def weight_arrays(model, group: str = "", float16: bool = False) -> dict[str, np.ndarray]:
    """A Keras model's variables as {key: array}, under the float16 rule above."""
    return {f"{group}/{i:04d}:{var.path}" if group else f"{i:04d}:{var.path}": to_stored(var.numpy(), float16)
            for i, var in enumerate(model.weights)}


def save_weights(path: str | Path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write arrays (from `weight_arrays`, possibly several groups merged) atomically."""
    with atomic.atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)
    return Path(path)


def read_weights(path: str | Path, group: str | None = None) -> dict[str, np.ndarray]:
    """The arrays of a weights file (only `group`'s when given); an unreadable file is a UserError."""
    path = Path(path)
    try:
        with np.load(path) as data:
            return {k: data[k] for k in data.files if group is None or _group(k) == group}
    except FileNotFoundError:
        raise UserError(f"weights file not found: {path}") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise UserError(f"{path} is corrupt (unreadable weights: {exc})") from None


def _group(key: str) -> str:
    return key.split("/", 1)[0] if "/" in key.split(":", 1)[0] else ""


def assign_weights(model, arrays: Mapping[str, np.ndarray], group: str = "", source: str = "weights") -> None:
    """Assign `group`'s arrays to `model` in index order, checking count and shapes first."""
    keys = sorted(k for k in arrays if _group(k) == group)
    what = f"{group} weights" if group else "weights"
    if len(keys) != len(model.weights):
        raise UserError(f"{source}: {len(keys)} {what} stored, the model has {len(model.weights)}")
    for key, var in zip(keys, model.weights):
        if tuple(arrays[key].shape) != tuple(var.shape):
            raise UserError(f"{source}: {key} has shape {arrays[key].shape}, the model expects {tuple(var.shape)}")
    for key, var in zip(keys, model.weights):
        var.assign(np.asarray(arrays[key]).astype(var.dtype))


def file_identity(path: str | Path) -> str:
    """Short hash of a file's bytes: the identity under which results computed with it are cached."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def arrays_digest(arrays: Mapping[str, np.ndarray]) -> str:
    """Hash of arrays' keys, dtypes, shapes and bytes: equal for equal weights in any file."""
    digest = hashlib.sha256()
    for key in sorted(arrays):
        value = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}:{value.dtype}:{value.shape}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


# -- caches -----------------------------------------------------------------------------------
def key_digest(key: Mapping) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:12]


def cache_path(folder: str | Path, kind: str, key: Mapping) -> Path:
    return Path(folder) / f"{kind}_{key_digest(key)}.json"


def read_cache_file(path: str | Path) -> dict | None:
    """A cache file's stored {format, key, result}, or None when it is not a readable cache."""
    try:
        stored = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return stored if isinstance(stored, dict) and stored.get("format") == CACHE_FORMAT else None


def read_cache(folder: str | Path, kind: str, key: Mapping):
    """The cached result under exactly this key, or None (missing, unreadable or another key)."""
    stored = read_cache_file(cache_path(folder, kind, key))
    if stored is None:
        return None
    if json.dumps(stored.get("key"), sort_keys=True) != json.dumps(json.loads(json.dumps(key, default=str)), sort_keys=True):
        return None
    return stored.get("result")


def write_cache(folder: str | Path, kind: str, key: Mapping, result) -> Path | None:
    """Keep `result` under `key`; a read-only folder only loses the cache (returns None)."""
    path = cache_path(folder, kind, key)
    try:
        atomic.write_json(path, {"format": CACHE_FORMAT, "key": json.loads(json.dumps(key, default=str)),
                                 "result": result})
    except (OSError, UserError):  # read-only or full: the atomic writer's one line, and no cache
        return None
    return path


def cached_results(folder: str | Path, kind: str) -> list[tuple[dict, object]]:
    """Every readable (key, result) of `kind` in a folder, for listings such as the Scores page."""
    out = []
    for path in sorted(Path(folder).glob(f"{kind}_*.json")):
        stored = read_cache_file(path)
        if stored is not None:
            out.append((stored.get("key") or {}, stored.get("result")))
    return out

"""Export a run for shipping: config, logs and chosen snapshots, without optimizer state.

Weights may be stored as float16 under gan_core.storage's one rule (kernels and embeddings float16,
vectors float32: half the size; generated images differ by a few levels out of 255 at most,
checked by a test); they are cast back to float32 on load. A snapshot's discriminator (best-of-N
sampling) is kept only in the snapshots named by `discriminator_in` (default: all), to save space.
Caches kept beside a snapshot (scores, realism, diversity, caption maps) travel with it only while
their key still names the exported weights: a float16 copy is other weights, so its numbers are
computed again rather than shipped under the float32 ones.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gan_core import UserError, atomic, storage
from gan_core.outputs import check_output_folder, stored_format
from gan_core.sample.snapshot import list_snapshots, read_meta, text_encoder_digest

RUN_FILES = ("config.json", "metrics.csv", "sample_captions.json", "vocab.json", "train.log", "text_encoder.json")
CARRY_FILES = ("text_encoder.npz",)  # what else a carried run needs to resume (gan_core.train.carry)
MARKER = "export.json"  # written into every export: what export_run may replace
MARKER_FORMAT = "gan_core.export/1"
_EXPORT_NAMES = {*RUN_FILES, *CARRY_FILES, "carry.npz", "snapshots", MARKER}


def is_export(path: Path) -> bool:
    """Whether `path` is export_run's output: its marker, or (exports made before the marker) the
    export layout alone: config.json and snapshots/, and nothing a run dir has besides (no state/)."""
    path = Path(path)
    if stored_format(path, MARKER) == MARKER_FORMAT:
        return True
    names = {p.name for p in path.iterdir()} if path.is_dir() else set()
    return {"config.json", "snapshots"} <= names <= _EXPORT_NAMES


def pick_spread(names: Sequence[str], count: int) -> list[str]:
    """`count` snapshot names spread evenly from the first to the last (both kept)."""
    if count >= len(names):
        return list(names)
    idx = np.unique(np.round(np.linspace(0, len(names) - 1, count)).astype(int))
    return [names[i] for i in idx]


def stale_cache(path: Path, weights_identity: str, encoder_digest: str) -> bool:
    """Whether a file beside a snapshot is a storage cache computed from other weights: its key names
    another weights file (scores, realism, diversity) or another text encoder (caption maps)."""
    stored = storage.read_cache_file(path) if path.suffix == ".json" else None
    if stored is None:
        return False
    key = stored.get("key") or {}
    return (("snapshot" in key and key["snapshot"] != weights_identity)
            or ("text_encoder" in key and key["text_encoder"] != encoder_digest))


def export_run(run_dir: str | Path, out: str | Path, snapshots: Sequence[str] | None = None, count: int = 6,
               float16: bool = True, discriminator_in: Sequence[str] | None = None, carry: bool = False) -> list[str]:
    """Export RUN to OUT (replaced as a whole); `carry`: add the latest state's weights (carry.npz,
    under the same float16 rule as the snapshots) and the run's text encoder file, so that a copy of OUT
    resumes training on any machine; `snapshots=[]` with `carry`: the carry alone."""
    run_dir, out = Path(run_dir), Path(out)
    if count < 1:
        raise UserError(f"--count must be at least 1, got {count}")
    if not (run_dir / "config.json").is_file():
        raise UserError(f"{run_dir} is not a run dir (no config.json)")
    check_output_folder(out, "--out", is_export, "an export of a run (no export.json)", inputs=[run_dir])
    if carry:
        from gan_core.train.state_snapshot import resolve_state

        resolve_state(run_dir)  # refused before anything is written
    available = [p.name for p in list_snapshots(run_dir)]
    if snapshots is not None and not snapshots and not carry:
        raise UserError("no snapshots chosen: an export without snapshots is only a carry (add --carry)")
    if not available and snapshots is None:
        raise UserError(f"{run_dir} has no snapshots to export")
    # a carry alone may leave the snapshots out: its scores live in results/, and git keeps every blob
    chosen = list(snapshots) if snapshots is not None else pick_spread(available, count)
    missing = [s for s in chosen if s not in available]
    if missing:
        raise UserError(f"snapshots not in {run_dir}: {missing}; available: {available}")
    stray = [s for s in discriminator_in or [] if s not in chosen]
    if stray:
        raise UserError(f"--discriminator-in names snapshots that are not exported: {stray}; exported: {chosen}")
    with atomic.atomic_dir(out, owned=is_export) as tmp:
        atomic.write_json(tmp / MARKER, {"format": MARKER_FORMAT, "run_dir": str(run_dir.resolve()),
                                         "snapshots": list(chosen), "float16": bool(float16), "carry": bool(carry)})
        (tmp / "snapshots").mkdir()  # also in a carry alone: the folder is what marks an export
        for name in RUN_FILES + (CARRY_FILES if carry else ()):
            if (run_dir / name).is_file():
                shutil.copy2(run_dir / name, tmp / name)
        if carry:
            from gan_core.train.carry import write_carry

            write_carry(run_dir, tmp, float16=float16)
        for name in chosen:
            src, dst = run_dir / "snapshots" / name, tmp / "snapshots" / name
            dst.mkdir()
            arrays = storage.read_weights(src / "weights.npz")
            meta = read_meta(src)  # migrated: a shipped snapshot is written in today's schema
            dropped = discriminator_in is not None and name not in discriminator_in and any(
                k.startswith("discriminator/") for k in arrays)
            if dropped:
                arrays = {k: v for k, v in arrays.items() if not k.startswith("discriminator/")}
                meta["has_discriminator"] = False
            recast = float16 and any(v.dtype != storage.to_stored(v, True).dtype for v in arrays.values())
            if dropped or recast:
                storage.save_weights(dst / "weights.npz", {k: storage.to_stored(v, float16) for k, v in arrays.items()})
            else:  # the very bytes (also of a snapshot exported before), so caches keyed on them stay valid
                shutil.copy2(src / "weights.npz", dst / "weights.npz")
            meta["weights_dtype"] = "float16" if float16 else meta.get("weights_dtype", "float32")
            (dst / "model.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
            identity, encoder = storage.file_identity(dst / "weights.npz"), text_encoder_digest(dst)
            for extra in src.iterdir():
                if (extra.name not in ("weights.npz", "model.json") and extra.is_file()
                        and not stale_cache(extra, identity, encoder)):
                    shutil.copy2(extra, dst / extra.name)
    return chosen

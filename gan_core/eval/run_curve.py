"""A run's scored curve: one epoch_NNNN.json per scored snapshot, in a folder that scripts/score_run.py
made for that run and marks as its own (score_run.json names the run), so a rerun resumes where it
stopped, and a result of another run, of a snapshot since retrained, or without the realism numbers
is scored again or named, never mixed into the curve or the pick."""

from __future__ import annotations

import json
from pathlib import Path

from gan_core import UserError, atomic, storage
from gan_core.eval.snapshot_rule import usable_fid
from gan_core.sample.snapshot import snapshot_epoch, snapshot_name

MARKER = "score_run.json"
FORMAT = "gan_core.run_curve/1"
SAMPLING = {"seed": 0, "truncation": 1.0, "best_of": 1}  # the competition's plain generation


def run_name(run_dir: str | Path) -> str:
    return str(Path(run_dir).resolve())


def result_path(out: Path, epoch: int) -> Path:
    """Where the result of the snapshot of `epoch` goes: named as the snapshot."""
    return out / f"{snapshot_name(epoch)}.json"


def weights_identity(snapshot: Path) -> str:
    return storage.file_identity(snapshot / "weights.npz")


def check_folder(out: Path, run_dir: str | Path) -> None:
    """`out` is new, empty, or this run's curve folder (its marker names the run)."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder")
    if not out.is_dir() or not any(out.iterdir()):
        return
    try:
        marker = json.loads((out / MARKER).read_text())
    except (OSError, ValueError):
        raise UserError(f"--out {out} holds files that score_run.py did not write; give a new folder") from None
    if not isinstance(marker, dict) or marker.get("format") != FORMAT:
        raise UserError(f"--out {out}: {MARKER} is not score_run.py's; give a new folder")
    if marker.get("run") != run_name(run_dir):
        raise UserError(f"--out {out} holds the curve of {marker.get('run')}, not of {run_name(run_dir)}; "
                        "give another folder")


def mark_folder(out: Path, run_dir: str | Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if not (out / MARKER).is_file():
        atomic.write_json(out / MARKER, {"format": FORMAT, "run": run_name(run_dir)})


def read_results(out: Path) -> dict[int, dict]:
    """epoch -> result of every epoch_NNNN.json in `out`; an unreadable one is a one-line error."""
    results = {}
    for path in sorted(out.glob("epoch_*.json")) if out.is_dir() else []:
        epoch = snapshot_epoch(path.stem)
        if epoch is None:
            continue
        try:
            result = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot read {path}: {exc}") from None
        if not isinstance(result, dict):
            raise UserError(f"{path} is not a scoring result (a JSON object)")
        results[epoch] = result
    return results


def stale(result: dict, epoch: int, weights: str | None) -> str | None:
    """Why `result` cannot stand for the snapshot of `epoch` (weights: its identity, None when the
    run no longer has it), or None when it can."""
    if result.get("epoch") != epoch:
        return f"it holds epoch {result.get('epoch')}"
    if any(result.get(k) != v for k, v in SAMPLING.items()):
        return "it was generated with other sampling settings (seed, psi or best-of)"
    if not usable_fid(result.get("fid_inception")):
        return "it has no Inception-FID"
    if weights is not None and result.get("weights") != weights:
        return "the run's snapshot has other weights now"
    return None

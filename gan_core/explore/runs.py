"""Run discovery and summaries over a checkpoints root, read-only (the dashboard's Checkpoints page).

A run is a subfolder of the root holding config.json or snapshots/; `evaluator/` and `carry/` (runs
carried between machines while they train, gan_core.train.carry) are not runs.
Nothing here raises on a broken run: problems are collected as readable strings on the summary,
so one corrupt run never hides the others. Paths coming from users go through `inside_root`,
which refuses anything that resolves outside the roots the caller was given.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gan_core import UserError
from gan_core.sample.snapshot import list_snapshots, read_meta

NOT_RUNS = {"evaluator", "carry"}  # folders under the checkpoints root that hold other things
METRIC_COLUMNS = ("d_loss", "g_loss", "d_real", "d_fake", "d_wrong", "gp", "ms", "kl", "contrast")


def inside_root(path: str | Path, *roots: str | Path) -> Path:
    """`path` resolved (symlinks followed); a UserError unless it lies within one of `roots`.

    A relative path is taken relative to the first root.
    """
    if not roots:
        raise ValueError("at least one root is needed")
    resolved_roots = [Path(r).expanduser().resolve() for r in roots]
    candidate = Path(path).expanduser()
    if not candidate.is_absolute():
        candidate = resolved_roots[0] / candidate
    candidate = candidate.resolve()
    if not any(candidate == r or r in candidate.parents for r in resolved_roots):
        allowed = " or ".join(str(r) for r in resolved_roots)
        raise UserError(f"{path} is outside the folders this app may read ({allowed})")
    return candidate


def list_runs(root: str | Path) -> list[Path]:
    """Run folders directly under `root`, sorted by name; a missing root is a UserError.
    Runs that resolve outside the root (a symlink elsewhere) are left out.
    """
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"checkpoints folder not found: {root}")
    resolved = root.resolve()
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and p.name not in NOT_RUNS and not p.name.startswith(".")
                  and resolved in p.resolve().parents
                  and ((p / "config.json").is_file() or (p / "snapshots").is_dir()))


@dataclass
class SnapshotInfo:
    path: Path
    epoch: int
    step: int | None  # None when model.json cannot be read
    samples: Path | None  # samples.png when present
    problem: str | None = None  # why the snapshot cannot be used, or None


@dataclass
class RunSummary:
    name: str
    path: Path
    config: dict  # config.json as stored ({} when unreadable)
    snapshots: list[SnapshotInfo]
    epochs_done: float  # from metrics.csv (or the last snapshot's epoch)
    steps_done: int
    train_seconds: float  # training time logged in metrics.csv
    problems: list[str] = field(default_factory=list)

    def row(self) -> dict:
        """One flat row for the runs table."""
        model = self.config.get("model", {}) if isinstance(self.config, dict) else {}
        text = model.get("text", {}) if isinstance(model, dict) else {}
        return {
            "run": self.name,
            "arch": model.get("arch", "?"),
            "ngf/ndf": f"{model.get('ngf', '?')}/{model.get('ndf', '?')}",
            "text mode": text.get("mode", "?"),
            "batch": str(self.config.get("batch_size", "?")),
            "epochs": f"{self.epochs_done:g}/{self.config.get('epochs', '?')}",
            "steps": self.steps_done,
            "training time": format_duration(self.train_seconds),
            "snapshots": sum(s.problem is None for s in self.snapshots),
            "problems": "; ".join(self.problems),
        }


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def snapshot_info(path: Path) -> SnapshotInfo:
    epoch = int(path.name.split("_")[-1])
    samples = path / "samples.png"
    try:
        meta = read_meta(path)
        step, problem = int(meta.get("step", 0)), None
    except UserError as exc:
        step, problem = None, str(exc)
    if problem is None and not (path / "weights.npz").is_file():
        problem = f"snapshot {path} is incomplete (weights.npz missing)"
    elif problem is None and not zipfile.is_zipfile(path / "weights.npz"):
        problem = f"snapshot {path} is corrupt (weights.npz is not an npz archive)"
    return SnapshotInfo(path, epoch, step, samples if samples.is_file() else None, problem)


def usable_snapshots(run_dir: str | Path) -> list[SnapshotInfo]:
    return [info for info in map(snapshot_info, list_snapshots(run_dir)) if info.problem is None]


def read_metrics(run_dir: str | Path) -> pd.DataFrame:
    """metrics.csv as a DataFrame (numeric columns), empty when missing or unreadable."""
    path = Path(run_dir) / "metrics.csv"
    try:
        table = pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError):
        return pd.DataFrame(columns=["step", "epoch", "time", *METRIC_COLUMNS])
    return table.apply(pd.to_numeric, errors="coerce").dropna(subset=["step"])


def summarize_run(run_dir: str | Path) -> RunSummary:
    run_dir = Path(run_dir)
    problems = []
    try:
        config = json.loads((run_dir / "config.json").read_text())
        if not isinstance(config, dict):
            raise ValueError
    except FileNotFoundError:
        config = {}
        problems.append("no config.json")
    except (ValueError, UnicodeDecodeError):
        config = {}
        problems.append("config.json is not valid JSON")
    snapshots = [snapshot_info(p) for p in list_snapshots(run_dir)]
    broken = [s for s in snapshots if s.problem]
    if not snapshots:
        problems.append("no snapshot yet")
    elif broken:
        problems.append(f"{len(broken)} unusable snapshot(s): " + ", ".join(s.path.name for s in broken))
    metrics = read_metrics(run_dir)
    if len(metrics):
        last = metrics.iloc[-1]
        epochs, steps, seconds = float(last.get("epoch", 0)), int(last["step"]), float(last.get("time", 0))
    else:
        epochs = float(snapshots[-1].epoch) if snapshots else 0.0
        steps, seconds = (snapshots[-1].step or 0) if snapshots else 0, 0.0
    stepped = [s for s in snapshots if s.step is not None and s.problem is None]
    if stepped and stepped[-1].step >= steps:  # the epoch-end snapshot comes after the last metrics row
        epochs, steps = float(stepped[-1].epoch), stepped[-1].step
    return RunSummary(run_dir.name, run_dir, config, snapshots, round(epochs, 2), steps, seconds, problems)


def sample_captions(run_dir: str | Path) -> list[str]:
    """The run's fixed sample-grid captions ([] when the file is missing or unreadable)."""
    try:
        captions = json.loads((Path(run_dir) / "sample_captions.json").read_text())
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return []
    return [str(c) for c in captions] if isinstance(captions, list) else []

"""A tiny dashboard workspace for the dashboard tests: prepared data, a checkpoints root with a
trained tiny run, a run without snapshots, a run with corrupt snapshots and (when the flowers
evaluator module exists) a tiny flowers evaluator.

Import the fixtures into a test module (`from dashboard_fixtures import workspace`); the
workspace is built once per pytest session. `python tests/dashboard_fixtures.py DIR` builds one
by hand for looking at the app (`GAN_CHECKPOINTS=DIR/checkpoints GAN_DATA=DIR/data`).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tiny import tiny_config, tiny_dataset  # noqa: E402


@dataclass(frozen=True)
class Workspace:
    data: Path  # prepared tiny data set
    checkpoints: Path  # checkpoints root: tiny/ (2 snapshots), empty/ (none), broken/ (corrupt), evaluator/{flowers,alignment}
    evaluator: bool  # whether checkpoints/evaluator holds tiny flowers and alignment models

    @property
    def tiny_run(self) -> Path:
        return self.checkpoints / "tiny"

    def env(self) -> dict[str, str]:
        return {"GAN_CHECKPOINTS": str(self.checkpoints), "GAN_DATA": str(self.data)}


def _small(config_class, wanted: dict):
    import dataclasses

    names = {f.name for f in dataclasses.fields(config_class)}
    return config_class(**{k: v for k, v in wanted.items() if k in names})


def _train_evaluators(data: Path, out: Path) -> bool:
    """A tiny flowers evaluator (out/flowers) and alignment model (out/alignment); False when the
    modules are not in this checkout."""
    try:
        from gan_core.eval.alignment import AlignmentConfig, train_alignment
        from gan_core.eval.evaluators.flowers import FlowersConfig, train_flowers_evaluator
    except ImportError:
        return False
    quiet = lambda *_: None  # noqa: E731
    if not (out / "flowers" / "weights.npz").is_file():
        train_flowers_evaluator(data, out / "flowers", config=_small(FlowersConfig, {"epochs": 1, "width": 4,
                                                                                      "batch_size": 16}), log=quiet)
    if not (out / "alignment" / "weights.npz").is_file():
        train_alignment(data, out / "alignment", config=_small(AlignmentConfig, {
            "epochs": 1, "embed_dim": 8, "hidden": 8, "image_width": 4, "batch_size": 16}), log=quiet)
    return True


def build_workspace(root: Path, trained: tuple[Path, Path] | None = None) -> Workspace:
    """Build (or reuse) the workspace under root; ~30-60 s the first time on a busy 2-core CPU.
    `trained`: (run dir, its data dir) of a tiny_config() run to copy instead of training one."""
    from gan_core.sample.snapshot import list_snapshots
    from gan_core.train.loop import train

    root = Path(root)
    checkpoints = root / "checkpoints"
    tiny = checkpoints / "tiny"
    if trained is not None and not (root / "data").is_dir():
        shutil.copytree(trained[1], root / "data")
    data = tiny_dataset(root)
    if trained is not None and not tiny.is_dir():
        shutil.copytree(trained[0], tiny)  # a copy: the pages write caches next to its snapshots
    if len(list_snapshots(tiny)) < 2:
        train(data, tiny, tiny_config(), log=lambda *_: None, progress=False)
    empty = checkpoints / "empty"
    empty.mkdir(parents=True, exist_ok=True)
    shutil.copy(tiny / "config.json", empty / "config.json")
    broken = checkpoints / "broken"
    if not broken.is_dir():
        snaps = list_snapshots(tiny)
        for epoch, snap in enumerate(snaps[:2], start=1):
            target = broken / "snapshots" / f"epoch_{epoch:04d}"
            shutil.copytree(snap, target)
        (broken / "snapshots" / "epoch_0001" / "weights.npz").write_bytes(b"not a zip file")
        (broken / "snapshots" / "epoch_0002" / "model.json").write_text("{ not json")
        (broken / "config.json").write_text("{ not json either")
    has_evaluator = _train_evaluators(data, checkpoints / "evaluator")
    return Workspace(data, checkpoints, has_evaluator)


@pytest.fixture(scope="session")
def workspace(tmp_path_factory, tiny_run) -> Workspace:
    """One workspace per test session, shared by the xdist workers: the first to ask builds it under
    a lock (build_workspace reuses what exists), the others wait for it."""
    from conftest import session_lock

    with session_lock(tmp_path_factory, "dashboard") as root:
        return build_workspace(root / "dashboard", trained=tiny_run[:2])


@pytest.fixture()
def app_env(workspace, monkeypatch) -> Workspace:
    """Points the app (run in-process by AppTest) at the tiny workspace."""
    for key, value in workspace.env().items():
        monkeypatch.setenv(key, value)
    return workspace


if __name__ == "__main__":
    ws = build_workspace(Path(sys.argv[1]))
    print(f"GAN_CHECKPOINTS={ws.checkpoints} GAN_DATA={ws.data}  (evaluator: {ws.evaluator})")

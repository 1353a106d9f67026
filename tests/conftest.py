"""Shared test fixtures: the shared real data set, the session's tiny trained run, a temporary machine cache."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED_DATA = (ROOT / ".." / "shared" / "data" / "oxford102").resolve()


# The heaviest modules first (their summed test times on the 2-core machine, 2026-12-06: 60-170 s
# each): xdist hands out whole files in collection order, so the run then ends on short files on
# both workers instead of one worker finishing a long file alone. The first two need neither the
# session's tiny run nor its dashboard workspace (neither worker starts by waiting for the other to
# build them), and the two users of the shipped per-caption table are kept apart.
HEAVY_FIRST = ("test_training", "test_per_caption", "test_dashboard_pages", "test_report_grid_page",
               "test_projector_page", "test_evaluation", "test_carry", "test_safety", "test_text_source",
               "test_test_captions_page", "test_distributed", "test_realism_wiring", "test_report_grid")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(Path(str(item.fspath)).stem, len(rank)))  # stable: the rest keep their order


@contextlib.contextmanager
def session_lock(tmp_path_factory, name: str):
    """An exclusive lock shared by the session's xdist workers: work that leaves a cache (a table next
    to a shipped snapshot, a prepared data set) is done once, and the other worker reads what it left."""
    import fcntl

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, above each worker's own
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield root


@pytest.fixture(scope="session", autouse=True)
def machine_cache(tmp_path_factory):
    """The machine cache of pretrained text encoders (gan_core.train.text_source) in a temporary
    folder, for the whole session and its subprocesses: tests neither read nor fill ~/.cache."""
    folder = tmp_path_factory.mktemp("gan_cache")
    saved = os.environ.get("GAN_CACHE_DIR")
    os.environ["GAN_CACHE_DIR"] = str(folder)
    yield folder
    if saved is None:
        os.environ.pop("GAN_CACHE_DIR", None)
    else:
        os.environ["GAN_CACHE_DIR"] = saved


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The tiny config (2 epochs: snapshots epoch_0001 and epoch_0002, 10 steps) trained once per test
    session, for the tests that only need a trained run: read it, or copy it to write into it.
    Returns (run dir, prepared data dir, TrainSummary). The xdist workers share one build: the first
    to ask trains it under a lock, the others wait for it (a build is most of a minute of CPU)."""
    import json

    with session_lock(tmp_path_factory, "tiny_run") as root:
        folder, done = root / "tiny_run", root / "tiny_run" / "summary.json"
        folder.mkdir(exist_ok=True)
        if not done.is_file():
            from tiny import tiny_config, tiny_dataset

            from gan_core.train.loop import train

            summary = train(tiny_dataset(folder), folder / "run", tiny_config(), log=lambda *_: None, progress=False)
            done.write_text(json.dumps(dataclasses.asdict(summary)))
    from gan_core.train.loop import TrainSummary

    return folder / "run", folder / "data", TrainSummary(**json.loads(done.read_text()))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "text_c10").is_dir():
        pytest.skip(f"real data set not found at {SHARED_DATA} (see README: Data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def real_data(tmp_path_factory) -> Path:
    """The prepared real data set the shipped references were computed on: data/oxford102, or prepared
    once per session from ../shared/data/oxford102 as the README says (a fresh clone, CI). The xdist
    workers share that one preparation and the caches written into it (the first builds it under a
    lock, as tiny_run)."""
    own = ROOT / "data" / "oxford102"
    if (own / "manifest.json").is_file():
        return own
    if not (SHARED_DATA / "text_c10").is_dir():
        pytest.skip(f"no prepared data at {own} and no raw data at {SHARED_DATA}")
    from gan_core.data.prepare import PrepareConfig, prepare

    with session_lock(tmp_path_factory, "real") as root:
        out = root / "real" / "oxford102"
        if not (out / "manifest.json").is_file():
            prepare(SHARED_DATA, out, PrepareConfig(competition_dir=str(SHARED_DATA / "competition")), progress=False)
    return out

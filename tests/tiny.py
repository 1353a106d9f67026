"""A tiny model config and a tiny trained run for fast tests (seconds, not minutes)."""

from __future__ import annotations

from pathlib import Path

from synthetic import make_source

from gan_core import config as cfg
from gan_core.data.prepare import PrepareConfig, prepare

TINY = {
    "model.ngf": "4", "model.ndf": "4", "model.noise_dim": "16", "model.cond_dim": "8",
    "model.text.embed_dim": "16", "model.text.hidden": "16", "model.text.mode": "joint",
    "model.text.pretrain_epochs": "1", "model.text.pretrain_batch": "16", "model.text.image_channels": "4",
    "batch_size": "8", "epochs": "2", "snapshot_every": "1", "state_every_steps": "2", "log_every": "1",
    "ema_start": "0", "sample_captions": "3", "sample_seeds": "2", "gp_every": "1",  # one traced step: faster tests
    "ema_halflife_images": "0",  # snapshots hold G itself (the EMA a plain copy) unless a test sets an EMA
}


def tiny_config(**overrides) -> cfg.TrainConfig:
    return cfg.with_overrides(cfg.TrainConfig(), {**TINY, **{k.replace("__", "."): str(v) for k, v in overrides.items()}})


def tiny_dataset(root: Path, per_class: int = 12) -> Path:
    out = root / "data"
    if not (out / "manifest.json").is_file():
        prepare(make_source(root / "src", per_class=per_class), out, PrepareConfig(sizes=(64, 76)), progress=False)
    return out

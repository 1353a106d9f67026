"""The one place that turns older run files into today's schema (after stylegan2-ada's legacy.py).

Every reader of a saved file (a run's config.json, a snapshot's model.json, a run's
text_encoder.npz) passes it through here first, so the rest of the code knows only the current
schema. A field added after runs were shipped is listed with the value those runs were trained
with: an old file is read with that value, never with today's default, so it resumes and
generates exactly as before.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

# ModelConfig fields, with the value runs saved before the field existed were trained with.
MODEL_FIELDS = {
    "upsample": "nearest",
    "d_residual_init": 0.0,
    "g_mult": "8,8,4,2,1",
    "d_lowres": 0,
    "g_skip_excitation": False,
}
# TrainConfig fields, likewise.
TRAIN_FIELDS = {
    "lr_decay_from": 1.0,
    "ema_halflife_images": 0,
    "ema_rampup": 0.05,
    "lecam_weight": 0.0,
    "lecam_decay": 0.99,
    "lecam_start": 1000,
    "contrastive_weight": 0.0,
    "contrastive_temperature": 0.1,
    "contrastive_dim": 128,
}


def migrate_model(model: Mapping) -> dict:
    """A saved model-config mapping (config.json "model", model.json "model") in today's schema."""
    return {**MODEL_FIELDS, **dict(model)}


def migrate_run_config(data: Mapping) -> dict:
    """A run's saved config.json in today's schema."""
    out = {**TRAIN_FIELDS, **dict(data)}
    if isinstance(out.get("model"), Mapping):
        out["model"] = migrate_model(out["model"])
    return out


def migrate_snapshot_meta(meta: Mapping) -> dict:
    """A snapshot's model.json in today's schema (its model and, when present, its run config)."""
    out = dict(meta)
    if isinstance(out.get("model"), Mapping):
        out["model"] = migrate_model(out["model"])
    if isinstance(out.get("run_config"), Mapping):
        out["run_config"] = migrate_run_config(out["run_config"])
    return out


def complete_from_run(file_data: Mapping, run_config: Mapping) -> dict:
    """A --config file applied to an existing run: the legacy-listed fields it lacks keep the run's
    values, so a file written before a resumable field existed cannot switch the run to its default."""
    return {**{k: run_config[k] for k in TRAIN_FIELDS if k in run_config}, **dict(file_data)}


def migrate_weight_keys(arrays: Mapping[str, np.ndarray], group: str) -> dict[str, np.ndarray]:
    """Weights saved without a group prefix (a run's text_encoder.npz keyed "0000", "0001", ...)
    under `group`, in today's "<group>/<index>:<path>" keys; files already grouped pass through."""
    if any(key.startswith(group + "/") for key in arrays):
        return dict(arrays)
    return {f"{group}/{key}" if ":" in key else f"{group}/{key}:": value for key, value in arrays.items()}

"""gan_core.legacy: older run files read in today's schema, with the values they were trained with."""

import copy
import json

import numpy as np
import pytest
from conftest import ROOT
from tiny import tiny_config

from gan_core import config as cfg
from gan_core import legacy, storage
from gan_core.data.text import PAD, RARE, Vocabulary
from gan_core.sample.snapshot import FORMAT, list_snapshots, model_config_from_meta, read_meta

DEFAULT = ROOT / "checkpoints" / "default"
# What runs saved before these fields existed were trained with (the brief of each field's commit).
TRAINED_WITH = {"model.upsample": "nearest", "model.d_residual_init": 0.0, "lr_decay_from": 1.0}


def today() -> dict:
    """A config.json as a run writes it today, with every field set unlike its legacy value."""
    config = tiny_config(model__upsample="bilinear", model__d_residual_init=1.0, lr_decay_from=0.8)
    return cfg.to_dict(config)


def strip_legacy_fields(data: dict) -> dict:
    """The same file as a run saved before the legacy-listed fields existed."""
    old = copy.deepcopy(data)
    for name in legacy.TRAIN_FIELDS:
        old.pop(name)
    for name in legacy.MODEL_FIELDS:
        old["model"].pop(name)
    return old


def get(data: dict, dotted: str):
    for part in dotted.split("."):
        data = data[part]
    return data


def test_an_old_config_json_reads_with_the_values_it_was_trained_with(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(strip_legacy_fields(today())))
    loaded = cfg.to_dict(cfg.load_saved(path))
    for field, value in TRAINED_WITH.items():
        assert get(loaded, field) == value, field
    for name, value in legacy.TRAIN_FIELDS.items():
        assert loaded[name] == value, name
    for name, value in legacy.MODEL_FIELDS.items():
        assert loaded["model"][name] == value, name
    assert loaded["model"]["ngf"] == 4 and loaded["batch_size"] == 8  # the rest is the file's own
    # A user's config file lacking them takes today's defaults instead: it describes a new run.
    assert cfg.load(path).lr_decay_from == cfg.TrainConfig().lr_decay_from


def test_an_old_model_json_reads_with_the_values_it_was_trained_with(tmp_path):
    snapshot = tmp_path / "epoch_0001"
    snapshot.mkdir()
    old = strip_legacy_fields(today())
    meta = {"format": FORMAT, "model": old["model"], "vocab": Vocabulary([PAD, RARE, "a", "red", "flower"]).to_json(),
            "epoch": 1, "step": 5, "precision": "float32", "run_config": old}
    (snapshot / "model.json").write_text(json.dumps(meta))
    read = read_meta(snapshot)
    config = model_config_from_meta(read)
    assert (config.upsample, config.d_residual_init) == ("nearest", 0.0)
    for name, value in legacy.MODEL_FIELDS.items():
        assert read["model"][name] == value and read["run_config"]["model"][name] == value, name
    assert read["run_config"]["lr_decay_from"] == 1.0
    assert read["epoch"] == 1 and read["model"]["ngf"] == 4


def test_todays_files_pass_through_unchanged():
    data = today()
    assert legacy.migrate_run_config(data) == data
    meta = {"format": FORMAT, "model": data["model"], "epoch": 3, "run_config": data}
    assert legacy.migrate_snapshot_meta(meta) == meta
    assert legacy.migrate_snapshot_meta({"format": FORMAT}) == {"format": FORMAT}  # nothing to migrate
    assert legacy.migrate_model(data["model"]) == data["model"]


def test_a_config_file_applied_to_an_old_run_keeps_the_runs_resumable_values():
    run_config = {"lr_decay_from": 1.0, "epochs": 10}
    assert legacy.complete_from_run({"epochs": 20}, run_config) == {"lr_decay_from": 1.0, "epochs": 20}
    assert legacy.complete_from_run({"lr_decay_from": 0.5}, run_config) == {"lr_decay_from": 0.5}


@pytest.fixture(scope="module")
def text_encoder():
    from gan_core.models import build_networks

    config = tiny_config(model__text__mode="pretrained").model
    return build_networks(config, 30, 12, "float32", with_discriminator=False).text_encoder


def test_an_old_text_encoder_npz_migrates(text_encoder, tmp_path):
    """Runs saved their text_encoder.npz as {"0000": w0, "0001": w1, ...} in get_weights() order."""
    old = tmp_path / "text_encoder.npz"
    np.savez(old, **{f"{i:04d}": w for i, w in enumerate(text_encoder.get_weights())})
    arrays = legacy.migrate_weight_keys(storage.read_weights(old), "text_encoder")
    assert sorted(arrays) == [f"text_encoder/{i:04d}:" for i in range(len(text_encoder.weights))]

    from gan_core.models import build_networks

    fresh = build_networks(tiny_config(model__text__mode="pretrained").model, 30, 12, "float32",
                           with_discriminator=False).text_encoder
    storage.assign_weights(fresh, arrays, "text_encoder", source=str(old))
    for a, b in zip(text_encoder.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_todays_text_encoder_npz_passes_through(text_encoder):
    arrays = storage.weight_arrays(text_encoder, "text_encoder")
    migrated = legacy.migrate_weight_keys(arrays, "text_encoder")
    assert migrated.keys() == arrays.keys() and all(migrated[k] is arrays[k] for k in arrays)
    with_paths = {f"{i:04d}:{v.path}": v.numpy() for i, v in enumerate(text_encoder.weights)}  # grouped later
    assert sorted(legacy.migrate_weight_keys(with_paths, "text_encoder")) == sorted(arrays)


def test_the_shipped_default_files_are_in_todays_schema():
    """checkpoints/default was rewritten once, so reading it changes no stored value and adds only the
    fields that came later (LeCam's, the multi-scale D's), each with the legacy table's value."""
    def only_added_later(migrated: dict, stored: dict, table=legacy.TRAIN_FIELDS) -> bool:
        added = {k: v for k, v in migrated.items() if k not in stored}
        nested = "model" in stored and table is legacy.TRAIN_FIELDS  # a run config's model: its own table
        if nested and not only_added_later(migrated["model"], stored["model"], legacy.MODEL_FIELDS):
            return False
        return ({k: migrated[k] for k in stored if not (nested and k == "model")}
                == {k: v for k, v in stored.items() if not (nested and k == "model")}
                and all(table.get(k, object()) == v for k, v in added.items()))

    snapshots = list_snapshots(DEFAULT)
    assert snapshots
    for snapshot in snapshots:
        meta = json.loads((snapshot / "model.json").read_text())
        migrated = legacy.migrate_snapshot_meta(meta)
        assert {k: v for k, v in migrated.items() if k not in ("run_config", "model")} == {
            k: v for k, v in meta.items() if k not in ("run_config", "model")}, snapshot
        assert only_added_later(migrated["model"], meta["model"], legacy.MODEL_FIELDS), snapshot
        assert only_added_later(migrated["run_config"], meta["run_config"]), snapshot
    config = json.loads((DEFAULT / "config.json").read_text())
    assert only_added_later(legacy.migrate_run_config(config), config)
    assert set(legacy.migrate_run_config(config)) - set(config) == {"lecam_weight", "lecam_decay", "lecam_start",
                                                                         "contrastive_weight", "contrastive_temperature",
                                                                         "contrastive_dim"}

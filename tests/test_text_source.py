"""Reusing a frozen pretrained text encoder: --text-encoder PATH and the machine's cache (GAN_CACHE_DIR).

Fast: refusals (another vocabulary, another size, a jointly trained encoder) on a snapshot of untrained
networks, and the cache's key. Slow: one tiny pretrained run (one contrastive epoch, one GAN step) as
the source, and new runs that copy its encoder exactly, from the flag or from the cache.
"""

import json
import shutil

import numpy as np
import pytest
from tiny import TINY, tiny_config, tiny_dataset

from gan_core import UserError, storage
from gan_core.data.dataset import PreparedDataset
from gan_core.sample.snapshot import list_snapshots, save_snapshot
from gan_core.train import text_pretrain, text_source
from gan_core.train.loop import train
from scripts import train as train_script

PRETRAINED = {"model__text__mode": "pretrained", "epochs": 1, "max_steps": 1}


def quiet(*_):
    pass


def by_index(arrays: dict) -> dict:
    """Arrays keyed "<group>/<index>": the variable paths after ':' carry Keras's per-process layer
    numbering (a second build in one process names its GRU "forward_gru_1")."""
    return {key.split(":", 1)[0]: value for key, value in arrays.items()}


def assert_same_arrays(a: dict, b: dict) -> None:
    a, b = by_index(a), by_index(b)
    assert a.keys() == b.keys() and a
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("text_source"))


def untrained_snapshot(data, path, mode: str = "pretrained"):
    """A snapshot of freshly built networks: enough for every check made before training starts."""
    from gan_core.models import build_networks

    dataset = PreparedDataset(data)
    model = tiny_config(model__text__mode=mode).model
    nets = build_networks(model, len(dataset.vocab), dataset.vocab.max_len, "float32", with_discriminator=False)
    return save_snapshot(path, model, dataset.vocab, nets.text_encoder, nets.generator, 1, 1, "float32"), nets


@pytest.fixture(scope="module")
def snapshot(data, tmp_path_factory):
    return untrained_snapshot(data, tmp_path_factory.mktemp("untrained") / "epoch_0001")


@pytest.fixture()
def no_pretraining(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the text encoder was pretrained again")

    monkeypatch.setattr(text_pretrain, "pretrain", refuse)


def argv(data, run_dir, *extra) -> list[str]:
    sets = {**TINY, "model.text.mode": "pretrained", "epochs": "1", "max_steps": "1"}
    return ["--data", str(data), "--run-dir", str(run_dir), "--no-progress",
            *[a for k, v in sets.items() for a in ("--set", f"{k}={v}")], *extra]


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err.strip()


def test_a_vocabulary_mismatch_is_one_line_and_no_run_dir(data, snapshot, tmp_path, capsys, no_pretraining):
    other = tmp_path / "other_snapshot"  # an encoder trained on other prepared data: one more word
    shutil.copytree(snapshot[0], other)
    meta = json.loads((other / "model.json").read_text())
    meta["vocab"]["words"].append("zebra")
    (other / "model.json").write_text(json.dumps(meta))
    new = tmp_path / "new"
    assert train_script.main(argv(data, new, "--text-encoder", str(other))) == 1
    assert one_error_line(capsys).startswith(f"error: the text encoder in {other} has another vocabulary")
    assert not new.exists()


def test_a_size_mismatch_is_one_line_and_no_run_dir(data, snapshot, tmp_path, capsys, no_pretraining):
    new = tmp_path / "new"
    assert train_script.main(argv(data, new, "--set", "model.text.hidden=8", "--text-encoder", str(snapshot[0]))) == 1
    assert "does not fit this run's model.text (hidden 16 vs 8)" in one_error_line(capsys)
    assert not new.exists()


def test_a_jointly_trained_encoder_is_refused(data, tmp_path, capsys, no_pretraining):
    joint, _ = untrained_snapshot(data, tmp_path / "joint" / "epoch_0001", mode="joint")
    new = tmp_path / "new"
    assert train_script.main(argv(data, new, "--text-encoder", str(joint))) == 1
    assert "trained jointly with its GAN, not pretrained and frozen" in one_error_line(capsys)
    assert train_script.main(argv(data, new, "--text-encoder", str(tmp_path / "missing"))) == 1
    assert "checkpoint not found" in one_error_line(capsys)
    assert not new.exists()


def test_the_cache_is_keyed_by_data_text_config_and_seed(data, snapshot, tmp_path, monkeypatch):
    monkeypatch.setenv(text_source.CACHE_ENV, str(tmp_path / "cache"))
    dataset, text = PreparedDataset(data), tiny_config(model__text__mode="pretrained").model.text
    assert text_source.cache_dir() == tmp_path / "cache"
    assert text_source.from_cache(dataset, text, seed=0) is None
    encoder = snapshot[1].text_encoder
    text_source.add_to_cache(dataset, text, 0, encoder, {"losses": [1.5]})
    hit = text_source.from_cache(dataset, text, seed=0)
    assert hit.origin.startswith(f"cache {tmp_path / 'cache'}") and hit.pretrain == {"losses": [1.5]}
    assert_same_arrays(hit.arrays, storage.weight_arrays(encoder, text_source.GROUP))
    assert text_source.from_cache(dataset, text, seed=1) is None
    assert text_source.from_cache(dataset, tiny_config(model__text__pretrain_epochs=2).model.text, seed=0) is None


def test_an_unwritable_cache_is_skipped(data, snapshot, tmp_path, monkeypatch):
    (tmp_path / "a_file").write_text("x")
    monkeypatch.setenv(text_source.CACHE_ENV, str(tmp_path / "a_file" / "cache"))
    dataset, text = PreparedDataset(data), tiny_config(model__text__mode="pretrained").model.text
    text_source.add_to_cache(dataset, text, 0, snapshot[1].text_encoder, {})  # no error: only the cache is lost
    assert text_source.from_cache(dataset, text, seed=0) is None


@pytest.mark.parametrize("old_keys", [False, True])
def test_a_run_dir_provides_its_text_encoder_npz(data, snapshot, tmp_path, old_keys):
    """A run dir's own text_encoder.npz (with its config.json and vocab.json), also as runs saved it
    before weight groups existed ("0000", "0001", ...)."""
    from gan_core import config as cfg
    from gan_core.atomic import write_json

    encoder = snapshot[1].text_encoder
    run = tmp_path / "run"
    run.mkdir()
    config = tiny_config(model__text__mode="pretrained")
    write_json(run / "config.json", cfg.to_dict(config))
    PreparedDataset(data).vocab.save(run / "vocab.json")
    arrays = storage.weight_arrays(encoder, text_source.GROUP)
    if old_keys:
        np.savez(run / "text_encoder.npz", **{f"{i:04d}": w for i, w in enumerate(encoder.get_weights())})
    else:
        storage.save_weights(run / "text_encoder.npz", arrays)
    found = text_source.from_path(run, PreparedDataset(data), config.model.text)
    assert found.origin == str(run)
    assert_same_arrays(found.arrays, arrays)
    (run / "vocab.json").unlink()
    with pytest.raises(UserError, match="has text_encoder.npz but no vocab.json"):
        text_source.from_path(run, PreparedDataset(data), config.model.text)


# -- slow: real runs ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def source(data, tmp_path_factory):
    """(run dir, cache dir): a run that pretrained its encoder and left it in its own cache."""
    root = tmp_path_factory.mktemp("source")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(text_source.CACHE_ENV, str(root / "cache"))
        train(data, root / "run", tiny_config(**PRETRAINED), log=quiet, progress=False)
    return root / "run", root / "cache"


def encoder_arrays(run_dir):
    return storage.read_weights(run_dir / "text_encoder.npz", text_source.GROUP)


def log_of(run_dir) -> str:
    return (run_dir / "train.log").read_text()


@pytest.mark.slow
def test_the_source_pretrained_once_and_filled_the_cache(source):
    run, cache = source
    assert "text encoder: contrastive pretraining for 1 epochs" in log_of(run)
    assert sorted(p.suffix for p in cache.iterdir()) == [".json", ".npz"]  # key and result; weights beside
    assert_same_arrays(storage.read_weights(next(cache.glob("*.npz")), text_source.GROUP), encoder_arrays(run))
    assert len(json.loads((run / "text_encoder.json").read_text())["losses"]) == 1  # one epoch's mean loss


@pytest.mark.slow
def test_text_encoder_flag_copies_the_encoder_exactly(data, source, tmp_path, monkeypatch, no_pretraining):
    run, _ = source
    monkeypatch.setenv(text_source.CACHE_ENV, str(tmp_path / "empty_cache"))  # only the flag can provide it
    path = list_snapshots(run)[-1]  # a snapshot; a run dir's text_encoder.npz: test_a_run_dir_provides...
    new = tmp_path / "new"
    train(data, new, tiny_config(**PRETRAINED), log=quiet, progress=False, text_encoder=path)
    assert f"text encoder: reused the pretrained encoder of {path}" in log_of(new)
    assert "contrastive pretraining" not in log_of(new)
    assert_same_arrays(encoder_arrays(new), encoder_arrays(run))
    # frozen: the new run's snapshot carries the very same encoder
    assert_same_arrays(storage.read_weights(list_snapshots(new)[-1] / "weights.npz", text_source.GROUP),
                       encoder_arrays(run))
    assert json.loads((new / "text_encoder.json").read_text())["source"] == str(path)
    assert not (tmp_path / "empty_cache").exists()  # nothing pretrained, nothing cached


@pytest.mark.slow
def test_a_new_run_with_the_same_data_text_config_and_seed_hits_the_cache(data, source, tmp_path, monkeypatch,
                                                                         no_pretraining):
    run, cache = source
    monkeypatch.setenv(text_source.CACHE_ENV, str(cache))
    new = tmp_path / "new"
    train(data, new, tiny_config(**PRETRAINED), log=quiet, progress=False)
    assert f"text encoder: reused the pretrained encoder of cache {cache}" in log_of(new)
    assert_same_arrays(encoder_arrays(new), encoder_arrays(run))
    pretrained = json.loads((run / "text_encoder.json").read_text())
    assert json.loads((new / "text_encoder.json").read_text())["losses"] == pretrained["losses"]  # kept in the cache

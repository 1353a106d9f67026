"""Snapshots from saved training states (gan_core.train.state_snapshot): either generator, exactly,
and states saved before the trainer listed the EMA's weights."""

import shutil

import numpy as np
import pytest

from gan_core import UserError, storage
from gan_core.sample.sampler import Sampler
from gan_core.train.state_snapshot import _epoch_of, snapshot_from_state, state_steps
from scripts import state_snapshot as script


def _generator_arrays(snapshot):
    return [a for k, a in sorted(storage.read_weights(snapshot / "weights.npz", "generator").items())]


@pytest.fixture(scope="module")
def run_with_ema(tiny_run, tmp_path_factory):
    """(run, trainer): a copy of the session's tiny run whose last state's EMA generator differs from
    the trained one (the tiny config's EMA is a plain copy): the average is moved by +0.25 and the
    state saved again; the trainer holds that state."""
    import tensorflow as tf

    from gan_core import config as cfg
    from gan_core.data.text import Vocabulary
    from gan_core.models import build_networks
    from gan_core.train.step import GANTrainer

    run = tmp_path_factory.mktemp("state") / "run"
    shutil.copytree(tiny_run[0], run)
    config = cfg.load_saved(run / "config.json")
    vocab = Vocabulary.load(run / "vocab.json")
    trainer = GANTrainer(build_networks(config.model, len(vocab), vocab.max_len, "float32"), config, "float32")
    step = state_steps(run)[-1]
    assert trainer.restore(str(run / "state" / f"ckpt-{step}"))  # today's states hold the whole EMA
    for weight in trainer.ema_generator.weights:
        weight.assign(weight + 0.25)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(**trainer.checkpoint_objects()), run / "state", 2)
    manager.save(checkpoint_number=step)
    return run, trainer


def test_state_steps_and_epochs(tiny_run):
    run, _, summary = tiny_run
    assert state_steps(run) == [8, 10] and summary.end_step == 10  # keep_states 2, a state every 2 steps
    assert state_steps(run / "snapshots") == []
    assert [_epoch_of(run, s) for s in (1, 5, 6, 8, 10)] == [1, 1, 2, 2, 2]  # 5 steps an epoch
    assert _epoch_of(run / "snapshots", 8) == 0  # no metrics.csv: unknown


def test_raw_and_ema_snapshots_hold_each_generator(run_with_ema, tiny_run, tmp_path):
    run, _ = run_with_ema
    last = tiny_run[0] / "snapshots" / "epoch_0002"  # the loop's own snapshot at step 10 (EMA = copy then)
    raw = snapshot_from_state(run, tmp_path / "raw", step=10)
    ema = snapshot_from_state(run, tmp_path / "ema", step=10, generator="ema")
    for got, want in zip(_generator_arrays(raw), _generator_arrays(last), strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(_generator_arrays(ema), _generator_arrays(last), strict=True):
        np.testing.assert_allclose(got, want + 0.25, rtol=0, atol=1e-6)
    sampler = Sampler.load(raw)  # a complete snapshot: it loads and draws, with its sample grid
    assert sampler.meta["step"] == 10 and sampler.meta["epoch"] == 2
    assert sampler.meta["from_state"] == {"step": 10, "generator": "raw"}
    assert (raw / "samples.png").stat().st_size > 0
    assert sampler.generate(["a red flower"], [0]).shape == (1, 64, 64, 3)


def test_a_state_saved_before_the_whole_ema(run_with_ema, tmp_path):
    """Before "ema_weights", a state held only the EMA layers tf.train.Checkpoint reached directly:
    no EMA snapshot from it, and a resume restarts the average from the restored generator."""
    import tensorflow as tf

    run, trainer = run_with_ema
    old = trainer.checkpoint_objects()
    del old["ema_weights"]  # what checkpoint_objects() returned then
    tf.train.CheckpointManager(tf.train.Checkpoint(**old), run / "state", 3).save(checkpoint_number=12)
    with pytest.raises(UserError, match="predates saving the whole EMA"):
        snapshot_from_state(run, tmp_path / "ema", generator="ema")
    assert not (tmp_path / "ema").exists()
    for weight in trainer.ema_generator.weights:  # what a fresh trainer's average holds before a restore
        weight.assign(weight - 7.0)
    assert not trainer.restore(str(run / "state" / "ckpt-12"))
    for ema, gen in zip(trainer.ema_generator.get_weights(), trainer.networks.generator.get_weights(), strict=True):
        np.testing.assert_array_equal(ema, gen)


@pytest.mark.parametrize("args, message", [
    (["--step", "3"], "keeps states at steps 8, 10, not 3"),
    (["--generator", "ema", "--out", "EXISTS"], "exists; choose a new folder"),
])
def test_bad_input_is_one_line(tiny_run, tmp_path, capsys, args, message):
    out = tmp_path / "new"
    existing = "EXISTS" in args
    if existing:
        out.mkdir()
        args = [a for a in args if a not in ("--out", "EXISTS")]
    assert script.main(["--run-dir", str(tiny_run[0]), "--out", str(out), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert out.exists() == existing and (not existing or not any(out.iterdir()))


def test_not_a_run_dir(tmp_path):
    with pytest.raises(UserError, match="not a run dir"):
        snapshot_from_state(tmp_path, tmp_path / "out")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(UserError, match="no saved training state"):
        snapshot_from_state(tmp_path, tmp_path / "out")

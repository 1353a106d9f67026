"""A run carried between machines without its optimizer state (gan_core.train.carry, export --carry):
the weights come back as carried (float16 kernels by default), training goes on from the carried step,
and bad input is one line."""

import csv
import shutil

import numpy as np
import pytest
from tiny import tiny_config

from gan_core import UserError, storage
from gan_core.sample.export import export_run
from gan_core.train.carry import CARRY_FILE, STEP_KEY
from gan_core.train.loop import train
from gan_core.train.state_snapshot import load_state
from scripts import export_run as export_script


def _weights(trainer, carried: bool = False) -> dict:
    """Each model's weights; `carried`: as a float16 carry brings them back (kernels rounded, and the
    generator's average restarted from the generator)."""
    nets = trainer.networks
    models = {"generator": nets.generator, "ema_generator": nets.generator if carried else trainer.ema_generator,
              "discriminator": nets.discriminator, "text_encoder": nets.text_encoder}
    return {g: [storage.to_stored(w.numpy(), True).astype(w.dtype) if carried else w.numpy() for w in m.weights]
            for g, m in models.items()}


@pytest.fixture(scope="module")
def carried(tiny_run, tmp_path_factory):
    """(exported folder, the tiny run's latest trainer): the tiny run exported with --carry."""
    out = tmp_path_factory.mktemp("carry") / "carried"
    assert export_script.main(["--run-dir", str(tiny_run[0]), "--out", str(out), "--snapshots", "epoch_0001",
                               "--carry"]) == 0
    return out, load_state(tiny_run[0])[2]


def test_the_carry_holds_the_latest_weights_and_step_and_no_optimizer_state(carried):
    out, trainer = carried
    arrays = storage.read_weights(out / CARRY_FILE)
    assert int(arrays[STEP_KEY]) == 10  # the tiny run's last state
    # no average (it restarts from G) and no optimizer state; the tiny run's text encoder trains, so it is carried
    assert {k.split("/")[0] for k in arrays} == {"carry", "generator", "discriminator", "text_encoder"}
    assert not any("optimizer" in k or "adam" in k.lower() for k in arrays)
    kinds = set()
    for group, wanted in _weights(trainer).items():
        if group == "ema_generator":
            continue
        got = [v for k, v in sorted(arrays.items()) if k.split("/")[0] == group]
        assert len(got) == len(wanted)
        for a, b in zip(got, wanted):
            # the float16 rule: kernels float16, vectors (biases, gains) exact in float32
            assert a.dtype == (np.float16 if b.ndim >= 2 else np.float32)
            kinds.add(a.dtype)
            np.testing.assert_array_equal(a, b.astype(a.dtype))
    assert kinds == {np.dtype(np.float16), np.dtype(np.float32)}
    assert (out / "config.json").is_file() and (out / "snapshots" / "epoch_0001" / "weights.npz").is_file()
    assert not (out / "state").exists()


@pytest.mark.slow
def test_a_copy_of_the_carry_resumes_exactly_then_trains_on(carried, tiny_run, tmp_path):
    out, trainer = carried
    run = tmp_path / "run"
    shutil.copytree(out, run)
    lines = []
    summary = train(tiny_run[1], run, tiny_config(), log=lines.append, progress=False)  # 2 epochs: nothing left
    assert (summary.start_step, summary.end_step) == (10, 10)
    assert any(f"resumed from {run / CARRY_FILE} at step 10" in line and "average from the generator" in line
               for line in lines)
    restored = load_state(run)[2]  # the state the loop saved from the carry: every weight as carried
    for group, wanted in _weights(trainer, carried=True).items():
        for a, b in zip(_weights(restored)[group], wanted, strict=True):
            np.testing.assert_array_equal(a, b)

    lines.clear()
    summary = train(tiny_run[1], run, tiny_config(epochs=3), log=lines.append, progress=False)
    assert (summary.start_step, summary.end_step) == (10, 15)
    assert any("resumed from" in line and "state/ckpt-10" in line for line in lines)  # the state now, not the carry
    with open(run / "metrics.csv", newline="") as handle:
        steps = [int(r["step"]) for r in csv.DictReader(handle)]
    assert steps == list(range(1, 16))  # the carried log, then the new rows, none twice
    assert (run / "snapshots" / "epoch_0003" / "weights.npz").is_file()
    moved = _weights(load_state(run)[2])["generator"]
    assert any(not np.array_equal(a, b) for a, b in zip(moved, _weights(trainer)["generator"]))


def test_an_exported_snapshot_exported_again_keeps_its_bytes(carried, tmp_path):
    out, _ = carried
    again = tmp_path / "again"
    export_run(out, again, ["epoch_0001"])
    name = "snapshots/epoch_0001/weights.npz"
    assert (again / name).read_bytes() == (out / name).read_bytes()


@pytest.mark.slow
def test_a_file_that_is_not_a_carry_is_refused(carried, tiny_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(carried[0], run)
    arrays = storage.read_weights(run / CARRY_FILE)
    del arrays[STEP_KEY]
    storage.save_weights(run / CARRY_FILE, arrays)
    with pytest.raises(UserError, match="is not a carried run"):
        train(tiny_run[1], run, tiny_config(), log=lambda *_: None, progress=False)


def test_carrying_a_run_without_a_state_is_one_line(tiny_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(tiny_run[0], run, ignore=shutil.ignore_patterns("state"))
    out = tmp_path / "out"
    assert export_script.main(["--run-dir", str(run), "--out", str(out), "--carry"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "has no saved training state" in err and err.count("\n") == 1
    assert not out.exists()


def test_a_carry_alone_leaves_the_snapshots_out_and_an_older_carry_is_still_read(carried, tiny_run, tmp_path, capsys):
    run = tmp_path / "alone"
    assert export_script.main(["--run-dir", str(tiny_run[0]), "--out", str(run), "--snapshots", "none", "--carry"]) == 0
    assert "exported 0 snapshots (none)" in capsys.readouterr().out
    assert (run / CARRY_FILE).is_file() and not any((run / "snapshots").iterdir())
    assert export_script.main(["--run-dir", str(tiny_run[0]), "--out", str(run), "--snapshots", "none",
                               "--carry"]) == 0  # replaced: it is an export this command made
    assert export_script.main(["--run-dir", str(tiny_run[0]), "--out", str(tmp_path / "x"), "--snapshots",
                               "none"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "only a carry" in err and err.count("\n") == 1

    # A carry written before the average and a trained encoder's double were left out: the average
    # it holds comes back as it was (here distinct from G, to tell them apart).
    arrays = storage.read_weights(run / CARRY_FILE)
    trainer = carried[1]
    older = {f"ema_generator/{i:04d}:{w.path}": (w.numpy() * 0.5).astype(np.float32)
             for i, w in enumerate(trainer.ema_generator.weights)}
    storage.save_weights(run / CARRY_FILE, {**arrays, **older})
    summary = train(tiny_run[1], run, tiny_config(), log=lambda *_: None, progress=False)
    assert (summary.start_step, summary.end_step) == (10, 10)
    ema = load_state(run)[2].ema_generator.get_weights()
    for got, want in zip(ema, older.values(), strict=True):
        np.testing.assert_array_equal(got, want)

"""Real TensorFlow training steps on a tiny synthetic data set. Tests that train (trace and run GAN
steps) are in the slow tier; the fast tier reads the session's tiny run (conftest.tiny_run)."""

import json
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from tiny import TINY, tiny_config, tiny_dataset

from gan_core import UserError
from gan_core import config as cfg
from gan_core.data.dataset import PipelineConfig, PreparedDataset, make_pipeline
from gan_core.models import build_networks
from gan_core.sample.snapshot import list_snapshots
from gan_core.train.loop import train
from gan_core.train.step import GANTrainer
from scripts import train as train_script


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("train"))


def make_trainer(data, config):
    ds = PreparedDataset(data)
    nets = build_networks(config.model, len(ds.vocab), ds.vocab.max_len, "float32")
    return ds, GANTrainer(nets, config, "float32")


def steps_then_resume(data, config, state_dir, steps: int = 2, after: int = 2, trainer=None):
    """Real steps on a trainer (a new one, or `trainer` as it is), its state saved, `after` more
    steps; then a fresh trainer restored from that state takes the same `after` steps. Returns
    (trainer, restored, saved path); asserts that both gave the same metrics."""
    ds = PreparedDataset(data)
    if trainer is None:
        _, trainer = make_trainer(data, config)
    batches = [next(iter(make_pipeline(ds, PipelineConfig(batch_size=8), e))) for e in range(steps + after)]
    for batch in batches[:steps]:
        trainer.train_step(batch)
    import tensorflow as tf

    path = tf.train.Checkpoint(**trainer.checkpoint_objects()).save(str(state_dir / "ckpt"))
    expected = [trainer.train_step(b) for b in batches[steps:]]
    _, restored = make_trainer(data, config)
    restored.restore(path)
    for batch, want in zip(batches[steps:], expected):
        got = restored.train_step(batch)
        for name, value in want.items():
            assert np.isclose(got[name], value, rtol=1e-5, atol=1e-6), name
    return trainer, restored, path


@pytest.mark.slow
def test_steps_change_weights_give_finite_losses_and_follow_the_lr_scale(data):
    # StyleGAN2-ADA's EMA at step 99: decay 0.5 ** (8 / 40) ~ 0.87, the average moves part of the way.
    # The mode-seeking term is off by default; on here, so that its path still runs in a real step.
    config = tiny_config(gp_every=2, ema_halflife_images=400, ema_rampup=0.05, mode_seeking_weight=1.0)
    ds, trainer = make_trainer(data, config)
    nets = trainer.networks
    before_g = [w.copy() for w in nets.generator.get_weights()]
    before_d = [w.copy() for w in nets.discriminator.get_weights()]
    before_t = [w.copy() for w in nets.text_encoder.get_weights()]
    metrics = trainer.train_step(next(iter(make_pipeline(ds, PipelineConfig(batch_size=8), 0))))
    assert set(metrics) >= {"d_loss", "g_loss", "gp", "ms"} and all(np.isfinite(v) for v in metrics.values())
    assert metrics["gp"] > 0  # step 0 carries the lazy MA-GP
    assert metrics["ms"] > 0  # the mode-seeking term was computed
    assert any(not np.allclose(a, b) for a, b in zip(before_g, nets.generator.get_weights()))
    assert any(not np.allclose(a, b) for a, b in zip(before_d, nets.discriminator.get_weights()))
    assert any(not np.allclose(a, b) for a, b in zip(before_t, nets.text_encoder.get_weights()))  # joint mode
    assert int(trainer.step.numpy()) == 1
    # Steps without the lazy penalty report its latest value, so a log sampled every N steps is never all 0.
    batch = next(iter(make_pipeline(ds, PipelineConfig(batch_size=8), 1)))
    trainer.step.assign(99)  # odd: no penalty
    ema_before = [w.copy() for w in trainer.ema_generator.get_weights()]
    decay = float(trainer._ema_decay())
    after = trainer.train_step(batch)
    assert after["gp"] == metrics["gp"]
    for old, new, ema in zip(ema_before, nets.generator.get_weights(), trainer.ema_generator.get_weights(), strict=True):
        np.testing.assert_allclose(ema, decay * old + (1 - decay) * new, rtol=1e-4, atol=1e-6)
    assert any(not np.allclose(e, g) for e, g in zip(trainer.ema_generator.get_weights(), nets.generator.get_weights()))

    # The rate scale sets both optimizers' rates; 0 freezes every weight for a step, 1 moves them again.
    trainer.set_lr_scale(0.5)
    assert float(trainer.opt_g.learning_rate) == pytest.approx(config.lr_g * 0.5)
    assert float(trainer.opt_d.learning_rate) == pytest.approx(config.lr_d * 0.5)
    trainer.set_lr_scale(0.0)
    frozen = [w.copy() for w in nets.generator.get_weights() + nets.discriminator.get_weights()]
    trainer.train_step(batch)
    for before, now in zip(frozen, nets.generator.get_weights() + nets.discriminator.get_weights(), strict=True):
        np.testing.assert_array_equal(before, now)
    trainer.set_lr_scale(1.0)
    trainer.train_step(batch)
    assert any(not np.array_equal(a, b) for a, b in zip(frozen, nets.generator.get_weights()))


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["dfgan", "dcgan"])
def test_discriminator_learns_to_separate_real_from_fake(data, arch):
    extra = {"gp_weight": 0, "diffaugment": "", "mode_seeking_weight": 0} if arch == "dcgan" else {}
    config = tiny_config(model__arch=arch, model__ngf=8, model__ndf=8, **extra)
    ds, trainer = make_trainer(data, config)
    gaps = []
    for epoch in range(8):
        for batch in make_pipeline(ds, PipelineConfig(batch_size=8), epoch):
            m = trainer.train_step(batch)
            gaps.append(m["d_real"] - m["d_fake"])
    assert len(gaps) >= 32
    assert np.mean(gaps[-8:]) > np.mean(gaps[:4]) + 0.2, gaps


def _final_weights(run_dir):
    """Snapshot arrays keyed by (model, index): layer names differ between processes' builds."""
    with np.load(list_snapshots(run_dir)[-1] / "weights.npz") as f:
        return {k.split(":")[0]: f[k] for k in f.files}


def test_run_dir_contents_and_config_guard(tiny_run, tmp_path):
    run_dir, data, summary = tiny_run  # the session's tiny_config() run: 2 epochs of 5 steps
    assert summary.end_step == 10 and summary.snapshots == ["epoch_0001", "epoch_0002"]
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)  # the guard below must not write: checked on a copy
    saved = json.loads((run / "config.json").read_text())
    assert saved["model"]["ngf"] == 4 and saved["batch_size"] == 8
    snap = list_snapshots(run)[-1]
    meta = json.loads((snap / "model.json").read_text())
    assert meta["epoch"] == 2 and meta["step"] == 10
    from PIL import Image

    grid = Image.open(snap / "samples.png")
    assert grid.size[0] > 2 * 128 and grid.size[1] > 3 * 128  # 3 captions x 2 seeds at 2x scale
    assert (run / "state" / "checkpoint").is_file() and list((run / "tb").iterdir())
    before = sorted((p.relative_to(run), p.stat().st_mtime_ns) for p in run.rglob("*"))
    with pytest.raises(UserError, match="different config"):
        train(data, run, tiny_config(lr_g=0.5), log=lambda *_: None, progress=False)
    assert sorted((p.relative_to(run), p.stat().st_mtime_ns) for p in run.rglob("*")) == before  # nothing written


def _wait_for(condition, proc, what: str, seconds: float = 240) -> None:
    deadline = time.time() + seconds
    while not condition():
        assert proc.poll() is None, f"the run ended before {what}: " + proc.communicate()[0][-2000:]
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _states(run) -> list[int]:
    return sorted(int(p.stem.split("-")[1]) for p in (run / "state").glob("ckpt-*.index"))


@pytest.mark.slow
def test_sigterm_then_kill_9_then_resume_equals_an_uninterrupted_run(data, tmp_path):
    """One run of scripts/train.py stopped twice: SIGTERM saves the state and exits 130; SIGKILL in
    the middle of later steps or saves leaves a loadable state; the last rerun, cut at step 20 by
    --max-steps, ends with the weights (of the snapshot's EMA generator) of the same 20 steps trained
    straight through. The rates fall
    from step 5 on (lr_decay_from 0.02 of 250 steps), so each resumed part sets them from its step."""
    run = tmp_path / "run"
    # The snapshots hold an EMA with a 10-step half-life: a resume that lost part of it cannot match.
    # Snapshots at epoch 1 and the end only (each draws a sample grid).
    sets = {**TINY, "lr_decay_from": "0.02", "ema_halflife_images": "80", "ema_rampup": "0", "snapshot_every": "100"}
    cmd = [sys.executable, str(ROOT / "scripts" / "train.py"), "--data", str(data), "--run-dir", str(run),
           "--no-progress", "--epochs", "50"] + [a for k, v in sets.items() if k != "epochs" for a in ("--set", f"{k}={v}")]

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    metrics = run / "metrics.csv"
    _wait_for(lambda: metrics.is_file() and len(metrics.read_text().splitlines()) >= 3, proc, "two steps")
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out[-2000:]
    assert "SIGTERM: state saved at step" in out and "Traceback" not in out
    stopped = int(out.split("state saved at step ")[1].split(";")[0])
    assert _states(run)[-1] == stopped

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_for(lambda: _states(run)[-1] > stopped, proc, "a state after the resumed step")
    time.sleep(0.5)  # land somewhere in the middle of later steps or saves
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert _states(run)[-1] < 20, "killed too late for the comparison at step 20"

    resumed = subprocess.run(cmd + ["--max-steps", "20"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert "resumed from" in resumed.stdout and "-> 20" in resumed.stdout
    assert list(pd.read_csv(metrics)["step"]) == list(range(1, 21))  # no repeated rows after the restarts

    config = cfg.with_overrides(tiny_config(epochs=50), {**{k: v for k, v in sets.items() if k != "epochs"},
                                                          "max_steps": "20"})
    straight = train(data, tmp_path / "straight", config, log=lambda *_: None, progress=False)
    assert straight.end_step == 20
    a, b = _final_weights(tmp_path / "straight"), _final_weights(run)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-4, atol=1e-5, err_msg=k)


def test_config_errors_are_one_line(data, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    for content, expected in [('{"model": {"nfg": 3}}', "unknown config key"), ('{"epochs": "many"}', "must be int"),
                              ("{not json", "not valid JSON")]:
        bad.write_text(content)
        assert train_script.main(["--data", str(data), "--run-dir", str(tmp_path / "r"), "--config", str(bad)]) == 1
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and err.startswith("error: ") and expected in err, err
    assert train_script.main(["--data", str(tmp_path / "none"), "--run-dir", str(tmp_path / "r2")]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "prepare_data.py" in err, err
    assert not (tmp_path / "r").exists() and not (tmp_path / "r2").exists()


def test_dfgan_upsampling_and_residual_init_follow_the_config():
    from gan_core.models import dfgan

    for init in (0.0, 1.0):
        model = cfg.with_overrides(cfg.TrainConfig(), {**TINY, "model.d_residual_init": str(init)}).model
        disc = dfgan.build_discriminator(model, 32)
        gammas = [float(layer.gamma.numpy()) for layer in disc.backbone.layers if isinstance(layer, dfgan.DownBlock)]
        assert len(gammas) == 4 and gammas == [init] * 4
    outputs = {}
    for mode in ("nearest", "bilinear"):
        model = cfg.with_overrides(cfg.TrainConfig(), {**TINY, "model.upsample": mode}).model
        gen = dfgan.build_generator(model, 32)
        if outputs:
            gen.set_weights(weights)
        weights = gen.get_weights()
        z, s = np.random.default_rng(0).standard_normal((2, 16)), np.random.default_rng(1).standard_normal((2, 32))
        outputs[mode] = np.asarray(gen([z.astype("float32"), s.astype("float32")]))
    # same weights, different upsampling: different images
    assert np.abs(outputs["nearest"] - outputs["bilinear"]).max() > 1e-3
    with pytest.raises(UserError, match="model.upsample"):
        tiny_config(model__upsample="bicubic")


def test_runs_saved_before_new_model_fields_keep_their_legacy_architecture(data, tmp_path):
    """A run or snapshot saved before model.upsample / model.d_residual_init existed is read with the
    values it was trained with (nearest, 0), not today's defaults, whatever those become."""
    from gan_core.legacy import MODEL_FIELDS
    from gan_core.sample.sampler import Sampler
    from gan_core.sample.snapshot import save_snapshot
    from gan_core.train.loop import _check_resumable

    ds = PreparedDataset(data)
    config = tiny_config(model__upsample="bilinear", model__d_residual_init=1.0)  # unlike the legacy values
    nets = build_networks(config.model, len(ds.vocab), ds.vocab.max_len, "float32", with_discriminator=False)
    snap = save_snapshot(tmp_path / "snap", config.model, ds.vocab, nets.text_encoder, nets.generator, 1, 5, "float32")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(cfg.to_dict(config)))
    for path in (run / "config.json", snap / "model.json"):  # strip the fields, as an old run has them
        saved = json.loads(path.read_text())
        for name in MODEL_FIELDS:
            del saved["model"][name]
        path.write_text(json.dumps(saved))

    legacy = Sampler.load(snap)
    assert (legacy.config.upsample, legacy.config.d_residual_init) == ("nearest", 0.0)
    ups = [layer.up.interpolation for layer in legacy.networks.generator.layers if hasattr(layer, "up")]
    assert ups == ["nearest"] * 4

    # What scripts/train.py resolves for a rerun: the run's own config, legacy values filled in;
    # the resume guard accepts it, and still refuses a real architecture change.
    resumed = cfg.for_run(run, overrides={"epochs": "3"})
    assert (resumed.model.upsample, resumed.model.d_residual_init, resumed.epochs) == ("nearest", 0.0, 3)
    _check_resumable(run, resumed)  # accepted
    with pytest.raises(UserError, match="different config"):
        _check_resumable(run, cfg.for_run(run, overrides={"model.upsample": "bilinear"}))


def test_ema_settings_may_change_when_resuming(tmp_path):
    """The EMA never feeds back into training, so a rerun may change it; other fields stay guarded."""
    from gan_core.train.loop import _check_resumable

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(cfg.to_dict(tiny_config(ema_decay=0.999, ema_start=500))))
    _check_resumable(run, tiny_config(ema_decay=0.0, ema_start=0))  # accepted
    with pytest.raises(UserError, match="different config"):
        _check_resumable(run, tiny_config(ema_decay=0.0, ema_start=0, lr_g=0.5))


def test_lr_scale_is_constant_then_falls_linearly():
    from gan_core.train.schedule import lr_scale

    assert [lr_scale(s, 10, 0.6) for s in range(10)] == [1.0] * 6 + [1.0, 0.75, 0.5, 0.25]
    assert [lr_scale(s, 10, 1.0) for s in range(10)] == [1.0] * 10
    assert lr_scale(0, 10, 0.0) == 1.0 and lr_scale(9, 10, 0.0) == 0.1


def test_runs_saved_before_the_lr_decay_keep_constant_rates_and_may_adopt_it(tmp_path):
    from gan_core.train.loop import _check_resumable

    run = tmp_path / "run"
    run.mkdir()
    saved = cfg.to_dict(tiny_config())
    del saved["lr_decay_from"]  # as a run saved before the field existed
    (run / "config.json").write_text(json.dumps(saved))
    assert cfg.for_run(run).lr_decay_from == 1.0
    assert cfg.TrainConfig().lr_decay_from == 0.8
    resumed = cfg.for_run(run, overrides={"lr_decay_from": "0.8"})
    _check_resumable(run, resumed)  # lr_decay_from may change on resume
    assert resumed.lr_decay_from == 0.8
    with pytest.raises(UserError, match="lr_decay_from must be between 0 and 1"):
        tiny_config(lr_decay_from=1.5)
    # --config with a file that predates the field: the resumed run keeps its constant rates, a new run
    # gets the default decay.
    old_file = tmp_path / "old.json"
    old_file.write_text(json.dumps(saved))
    (run / "config.json").write_text(json.dumps(saved))
    assert cfg.for_run(run, config_file=old_file).lr_decay_from == 1.0
    assert cfg.for_run(tmp_path / "new_run", config_file=old_file).lr_decay_from == 0.8

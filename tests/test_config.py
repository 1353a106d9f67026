"""The run config is checked before anything is written: scripts/train.py in-process, bad values, no run dir."""

import pytest
from tiny import tiny_config, tiny_dataset

from gan_core import UserError
from gan_core import config as cfg
from scripts import train as train_script


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("config"))


@pytest.mark.parametrize("setting, field", [
    ("diffaugment=foo", "diffaugment"),
    ("log_every=0", "log_every"),
    ("ema_decay=1.5", "ema_decay"),
    ("sample_seeds=0", "sample_seeds"),
    ("max_steps=-1", "max_steps"),
    ("model.upsample=bicubic", "model.upsample"),
    ("epochs=many", "epochs"),
    ("model.nfg=3", "model.nfg"),
])
def test_a_bad_value_is_one_line_naming_the_field_and_no_run_dir(data, tmp_path, capsys, setting, field):
    run = tmp_path / "new_run"
    assert train_script.main(["--data", str(data), "--run-dir", str(run), "--no-progress", "--set", setting]) == 1
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and field in lines[0], captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert not run.exists()


def test_a_bad_config_file_is_refused_before_the_run_dir_too(data, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: 3\nlog_every: 0\n")
    run = tmp_path / "new_run"
    assert train_script.main(["--data", str(data), "--run-dir", str(run), "--config", str(bad)]) == 1
    assert capsys.readouterr().err == "error: invalid config: log_every must be at least 1, got 0\n"
    assert not run.exists()


def test_validation_accepts_the_defaults_and_the_tiny_config():
    cfg.validate(cfg.TrainConfig())
    cfg.validate(tiny_config())
    with pytest.raises(UserError, match="^invalid config: diffaugment must be a comma-separated subset"):
        tiny_config(diffaugment="color,zoom")
    assert tiny_config(diffaugment="").diffaugment == ""  # no augmentation is allowed

"""The shipped-snapshot rule (gan_core.eval.snapshot_rule) and scripts/score_run.py on the shipped
default: its snapshots' scores come from the caches next to them, so the real scoring path runs in
seconds; a second call scores nothing again; the pick follows the rule; bad input is one line."""

from __future__ import annotations

import json
import math

import pytest
from conftest import ROOT

from gan_core import UserError
from gan_core.eval.snapshot_rule import choose_snapshot
from scripts import score_run

DEFAULT = ROOT / "checkpoints" / "default"


def test_the_lowest_fid_wins_and_near_ties_go_to_the_latest():
    assert choose_snapshot({100: 60.0, 200: 52.0, 300: 55.0}) == 200
    assert choose_snapshot({100: 60.0, 200: 52.0, 300: 52.9}) == 300  # within 1.0: the later one
    assert choose_snapshot({100: 60.0, 200: 52.0, 300: 53.0}) == 300  # the boundary counts as a tie
    assert choose_snapshot({100: 60.0, 200: 52.0, 300: 53.01}) == 200
    assert choose_snapshot({100: 52.5, 200: 52.0, 300: 70.0}) == 200  # an earlier near-tie does not win
    assert choose_snapshot({100: 60.0, 200: 52.0, 300: 53.5}, tolerance=2.0) == 300
    assert choose_snapshot({100: 60.0, 200: 52.0, 300: 52.5}, tolerance=0.0) == 200
    assert choose_snapshot({100: 50.0, 200: None, 300: math.nan}) == 100  # unscored snapshots are left out


def test_the_rule_refuses_what_it_cannot_judge():
    with pytest.raises(UserError, match="no snapshot has an Inception-FID"):
        choose_snapshot({100: None, 200: math.nan})
    with pytest.raises(UserError, match="no snapshot"):
        choose_snapshot({})
    with pytest.raises(UserError, match="tolerance"):
        choose_snapshot({100: 50.0}, tolerance=-1.0)


def test_scores_the_shipped_run_and_resumes_without_rescoring(real_data, tmp_path, capsys):
    out = tmp_path / "curve"
    data = ["--data", str(real_data)]
    assert score_run.main([str(DEFAULT), "--out", str(out), "--epochs", "240,270", *data]) == 0
    printed = capsys.readouterr().out
    assert "scoring" in printed and "epoch_0270" in printed
    written = {p.name: json.loads(p.read_text()) for p in out.glob("*.json")}
    assert set(written) == {"epoch_0240.json", "epoch_0270.json"}
    for name, result in written.items():
        assert result["epoch"] == int(name[6:10])
        assert 0.0 < result["score"] < 1.0 and 0.0 < result["fid_inception"] < 500.0
    assert written["epoch_0270.json"]["fid_inception"] < written["epoch_0240.json"]["fid_inception"]
    assert "the rule picks epoch 270" in printed and "| epoch 240 |" in printed

    stamp = (out / "epoch_0270.json").stat().st_mtime_ns
    assert score_run.main([str(DEFAULT), "--out", str(out), "--every", "120", *data]) == 0  # 120, 240, 270
    printed = capsys.readouterr().out
    assert "[1/1] scoring" in printed and "epoch_0120" in printed and "epoch_0270" not in printed.split("|")[0]
    assert (out / "epoch_0270.json").stat().st_mtime_ns == stamp
    assert sorted(p.name for p in out.glob("*.json")) == ["epoch_0120.json", "epoch_0240.json", "epoch_0270.json"]

    # the pick reads every result in the folder: a planted snapshot far better than the rest wins,
    # one within the tolerance of the lowest loses to the later 270
    planted = {**written["epoch_0240.json"], "epoch": 60}
    for fid, picked in ((written["epoch_0270.json"]["fid_inception"] - 5.0, 60),
                        (written["epoch_0270.json"]["fid_inception"] - 0.5, 270)):
        (out / "epoch_0060.json").write_text(json.dumps({**planted, "fid_inception": fid}))
        assert score_run.main([str(DEFAULT), "--out", str(out), "--no-score"]) == 0
        assert f"the rule picks epoch {picked}:" in capsys.readouterr().out


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "curve"
    assert score_run.main([str(tmp_path / "nope"), "--out", str(out)]) == 1
    assert "not found" in one_error_line(capsys)
    empty = tmp_path / "empty_run"
    empty.mkdir()
    assert score_run.main([str(empty), "--out", str(out)]) == 1
    assert "has no snapshots" in one_error_line(capsys)
    assert score_run.main([str(DEFAULT), "--out", str(out), "--epochs", "7,270"]) == 1
    assert "no snapshot for epoch 7" in one_error_line(capsys)
    assert score_run.main([str(DEFAULT), "--out", str(out), "--epochs", "x"]) == 1
    assert "comma-separated integers" in one_error_line(capsys)
    assert score_run.main([str(DEFAULT), "--out", str(out), "--every", "0"]) == 1
    assert "--every" in one_error_line(capsys)
    assert score_run.main([str(DEFAULT), "--out", str(out), "--tolerance", "-1"]) == 1
    assert "tolerance" in one_error_line(capsys)
    assert score_run.main([str(DEFAULT), "--out", str(out), "--no-score"]) == 1
    assert "no epoch_NNNN.json" in one_error_line(capsys)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    assert score_run.main([str(DEFAULT), "--out", str(a_file)]) == 1
    assert "is a file" in one_error_line(capsys) and a_file.read_text() == "keep me"
    assert score_run.main([str(DEFAULT), "--out", str(out), "--epochs", "270", "--data", str(tmp_path / "nodata")]) == 1
    assert "prepared dataset" in one_error_line(capsys)
    assert not out.exists()

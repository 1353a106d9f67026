"""The shipped-snapshot rule (gan_core.eval.snapshot_rule) and scripts/score_run.py on the shipped
default's snapshots: their scores come from the caches next to them, so the real scoring path runs
in seconds. A rerun scores only what is missing or stale; a result that cannot stand for the run's
snapshot is rescored or named, never mixed into the pick; bad input is one line."""

from __future__ import annotations

import json
import math
import shutil

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
    assert choose_snapshot({100: 50.0, 200: None, 300: math.nan, 400: True}) == 100  # unusable ones left out


def test_the_rule_refuses_what_it_cannot_judge():
    with pytest.raises(UserError, match="no snapshot has an Inception-FID"):
        choose_snapshot({100: None, 200: math.nan})
    with pytest.raises(UserError, match="no snapshot"):
        choose_snapshot({})
    for bad in (-1.0, math.inf, math.nan):
        with pytest.raises(UserError, match="tolerance"):
            choose_snapshot({100: 50.0}, tolerance=bad)


def copy_run(tmp_path, epochs=(240, 270)):
    """A run of the shipped snapshots `epochs`, with their score and realism caches."""
    run = tmp_path / "run"
    for e in epochs:
        shutil.copytree(DEFAULT / "snapshots" / f"epoch_{e:04d}", run / "snapshots" / f"epoch_{e:04d}")
    return run


def scored_lines(printed: str) -> list[str]:
    return [line for line in printed.splitlines() if line.startswith("[")]


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_scores_resumes_and_picks_by_the_rule(real_data, tmp_path, capsys):
    out = tmp_path / "curve"
    data = ["--data", str(real_data)]
    assert score_run.main([str(DEFAULT), "--out", str(out), "--epochs", "240,270", *data]) == 0
    printed = capsys.readouterr().out
    assert len(scored_lines(printed)) == 2
    written = {p.name: json.loads(p.read_text()) for p in out.glob("epoch_*.json")}
    assert set(written) == {"epoch_0240.json", "epoch_0270.json"} and (out / "score_run.json").is_file()
    for name, result in written.items():
        assert result["epoch"] == int(name[6:10]) and result["seed"] == 0
        assert 0.0 < result["score"] < 1.0 and 0.0 < result["fid_inception"] < 500.0
    fids = {int(n[6:10]): r["fid_inception"] for n, r in written.items()}
    best = min(fids, key=fids.get)
    expected = 270 if fids[270] <= fids[best] + 1.0 else best
    assert f"the rule picks epoch {expected}:" in printed and "| epoch 240 |" in printed

    stamp = (out / "epoch_0270.json").stat().st_mtime_ns
    assert score_run.main([str(DEFAULT), "--out", str(out), "--every", "120", *data]) == 0  # 120, 240, 270
    lines = scored_lines(capsys.readouterr().out)
    assert len(lines) == 1 and "epoch_0120" in lines[0]  # 240 and 270 are not scored again
    assert (out / "epoch_0270.json").stat().st_mtime_ns == stamp

    # a result without its realism numbers is stale: named by --no-score, rescored when selected
    bare = {k: v for k, v in written["epoch_0240.json"].items() if k != "fid_inception"}
    (out / "epoch_0240.json").write_text(json.dumps(bare))
    assert score_run.main([str(DEFAULT), "--out", str(out), "--no-score"]) == 1
    assert "cannot stand for epoch 240: it has no Inception-FID; rescore it with --epochs 240" in one_error_line(capsys)
    assert score_run.main([str(DEFAULT), "--out", str(out), "--epochs", "240", *data]) == 0
    assert len(scored_lines(capsys.readouterr().out)) == 1
    assert json.loads((out / "epoch_0240.json").read_text())["fid_inception"] == fids[240]

    # a result for an epoch whose snapshot the run no longer keeps still counts, and the pick says so
    planted = {**written["epoch_0240.json"], "epoch": 61, "weights": "gone"}
    for fid, picked in ((min(fids.values()) - 5.0, 61), (max(fids.values()) + 5.0, expected)):
        (out / "epoch_0061.json").write_text(json.dumps({**planted, "fid_inception": fid}))
        assert score_run.main([str(DEFAULT), "--out", str(out), "--no-score"]) == 0
        printed = capsys.readouterr().out
        assert f"the rule picks epoch {picked}:" in printed
        assert ("no longer has its snapshot" in printed) == (picked == 61)


def test_results_of_another_run_or_other_weights_are_refused(real_data, tmp_path, capsys):
    run = copy_run(tmp_path)
    out = tmp_path / "curve"
    assert score_run.main([str(run), "--out", str(out), *["--data", str(real_data)]]) == 0
    capsys.readouterr()
    assert score_run.main([str(DEFAULT), "--out", str(out), "--no-score"]) == 1  # the folder is run's
    assert "holds the curve of" in one_error_line(capsys)
    # the run's epoch 240 retrained (here: other weights copied in): its old result no longer stands
    shutil.copy(run / "snapshots" / "epoch_0270" / "weights.npz", run / "snapshots" / "epoch_0240" / "weights.npz")
    assert score_run.main([str(run), "--out", str(out), "--no-score"]) == 1
    assert "the run's snapshot has other weights now" in one_error_line(capsys)
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "epoch_0240.json").write_text(json.dumps({"epoch": 240, "fid_inception": 1.0}))
    assert score_run.main([str(run), "--out", str(foreign), "--no-score"]) == 1
    assert "did not write" in one_error_line(capsys)
    assert sorted(p.name for p in foreign.iterdir()) == ["epoch_0240.json"]


def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "curve"
    assert score_run.main([str(tmp_path / "nope"), "--out", str(out)]) == 1
    assert "not found" in one_error_line(capsys)
    empty = tmp_path / "empty_run"
    empty.mkdir()
    assert score_run.main([str(empty), "--out", str(out)]) == 1
    assert "has no snapshots" in one_error_line(capsys)
    for args, message in ((["--epochs", "7,270"], "no snapshot for epoch 7"),
                          (["--epochs", "x"], "comma-separated integers"),
                          (["--epochs", ""], "integers from 0"),
                          (["--every", "0"], "--every"),
                          (["--tolerance", "-1"], "tolerance"),
                          (["--no-score", "--every", "20"], "leave out --epochs and --every"),
                          (["--no-score"], "holds no results yet"),
                          (["--epochs", "270", "--data", str(tmp_path / "nodata")], "no prepared dataset"),
                          (["--epochs", "270", "--data", str(empty)], "no prepared dataset")):
        assert score_run.main([str(DEFAULT), "--out", str(out), *args]) == 1, args
        assert message in one_error_line(capsys), args
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    assert score_run.main([str(DEFAULT), "--out", str(a_file)]) == 1
    assert "is a file" in one_error_line(capsys) and a_file.read_text() == "keep me"
    assert not out.exists()

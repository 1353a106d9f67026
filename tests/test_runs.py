"""Run discovery and summaries (gan_core.explore.runs) on hand-made run folders: no TensorFlow."""

import json
import os

import pytest

from gan_core import UserError
from gan_core.explore.runs import inside_root, list_runs, read_metrics, sample_captions, summarize_run, usable_snapshots
from gan_core.sample.snapshot import FORMAT


def make_snapshot(run, epoch, meta=None, weights=b"PK\x05\x06" + b"\0" * 18):
    snap = run / "snapshots" / f"epoch_{epoch:04d}"
    snap.mkdir(parents=True)
    (snap / "model.json").write_text(json.dumps(meta or {"format": FORMAT, "epoch": epoch, "step": epoch * 10}))
    (snap / "weights.npz").write_bytes(weights)  # an empty zip archive
    return snap


@pytest.fixture()
def root(tmp_path):
    ok = tmp_path / "ok"
    make_snapshot(ok, 1)
    make_snapshot(ok, 5)
    (ok / "config.json").write_text(json.dumps({"model": {"arch": "dfgan", "ngf": 16, "ndf": 8,
                                                          "text": {"mode": "joint"}}, "batch_size": 32, "epochs": 10}))
    (ok / "metrics.csv").write_text("step,epoch,time,d_loss,g_loss\n10,0.5,3.0,1.0,2.0\n20,1.0,7200.0,0.9,1.8\n")
    (ok / "sample_captions.json").write_text(json.dumps(["a red flower", "a white flower"]))
    (tmp_path / "config_only").mkdir()
    (tmp_path / "config_only" / "config.json").write_text("{}")
    (tmp_path / "evaluator" / "snapshots").mkdir(parents=True)  # not a run
    (tmp_path / "carry" / "long" / "snapshots").mkdir(parents=True)  # runs carried while they train: not runs
    (tmp_path / "carry" / "config.json").write_text("{}")
    (tmp_path / "notes").mkdir()  # neither config nor snapshots: not a run
    (tmp_path / "file.txt").write_text("x")
    return tmp_path


def test_list_runs_finds_runs_and_skips_the_evaluator_and_other_folders(root):
    assert [p.name for p in list_runs(root)] == ["config_only", "ok"]


def test_list_runs_leaves_out_symlinks_that_leave_the_root(root, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    make_snapshot(outside / "elsewhere", 1)
    os.symlink(outside / "elsewhere", root / "linked")
    assert "linked" not in [p.name for p in list_runs(root)]


def test_list_runs_of_a_missing_root_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="checkpoints folder not found"):
        list_runs(tmp_path / "nope")


def test_inside_root_accepts_paths_within_and_refuses_the_rest(root, tmp_path_factory):
    assert inside_root("ok/snapshots", root) == (root / "ok" / "snapshots").resolve()
    assert inside_root(root / "ok", tmp_path_factory.mktemp("other"), root) == (root / "ok").resolve()
    with pytest.raises(UserError, match="outside the folders"):
        inside_root("../", root)
    with pytest.raises(UserError, match="outside the folders"):
        inside_root("/etc", root)
    os.symlink("/etc", root / "sneaky")
    with pytest.raises(UserError, match="outside the folders"):
        inside_root("sneaky/passwd", root)


def test_summary_of_a_good_run(root):
    summary = summarize_run(root / "ok")
    assert [s.epoch for s in summary.snapshots] == [1, 5] and summary.problems == []
    row = summary.row()
    assert row["arch"] == "dfgan" and row["ngf/ndf"] == "16/8" and row["text mode"] == "joint"
    # the epoch-5 snapshot (step 50) is newer than the last metrics row (step 20, epoch 1.0): it counts
    assert row["batch"] == "32" and row["epochs"] == "5/10" and row["steps"] == 50
    (root / "ok" / "metrics.csv").write_text("step,epoch,time,d_loss,g_loss\n60,6.0,7300.0,0.9,1.8\n")
    assert summarize_run(root / "ok").row()["epochs"] == "6/10"  # and metrics newer than the snapshot count
    assert row["training time"] == "2h 00m" and row["snapshots"] == 2
    assert sample_captions(root / "ok") == ["a red flower", "a white flower"]
    assert list(read_metrics(root / "ok")["g_loss"]) == [1.8]


def test_summary_reports_corrupt_parts_without_raising(root):
    bad = root / "bad"
    make_snapshot(bad, 1, weights=b"garbage")
    snap = make_snapshot(bad, 2)
    (snap / "model.json").write_text("{ nope")
    make_snapshot(bad, 3, meta={"format": "something else"})
    (bad / "config.json").write_text("[1, 2")
    (bad / "metrics.csv").write_bytes(b"\xff\xfe\x00garbage")
    summary = summarize_run(bad)
    problems = {s.epoch: s.problem for s in summary.snapshots}
    assert "not an npz archive" in problems[1] and "not valid JSON" in problems[2] and "format" in problems[3]
    assert "config.json is not valid JSON" in summary.problems
    assert any("3 unusable snapshot(s)" in p for p in summary.problems)
    assert usable_snapshots(bad) == [] and summary.row()["snapshots"] == 0
    assert summary.steps_done == 0  # unreadable metrics: none logged


def test_summary_of_a_run_without_snapshots(root):
    summary = summarize_run(root / "config_only")
    assert summary.snapshots == [] and "no snapshot yet" in summary.problems
    assert sample_captions(root / "config_only") == [] and read_metrics(root / "config_only").empty

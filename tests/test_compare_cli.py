"""scripts/compare.py and evaluate.py --per-caption on the shipped default: against itself every gap is
0; against a folder that generate.py wrote from a second seed (some files missing, names in both forms)
the left-out captions are counted and the numbers equal evaluate.py's. Bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from PIL import Image

from scripts import compare as compare_script
from scripts import evaluate as evaluate_script
from scripts import generate as generate_script

DEFAULT = ROOT / "checkpoints" / "default"  # a run dir: its latest snapshot, epoch 270


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_bad_input_is_one_line_and_checked_before_any_model(tmp_path, capsys):
    data = ["--data", str(ROOT / "data" / "oxford102")]
    assert compare_script.main([str(tmp_path / "nope"), str(DEFAULT), *data, "--out", str(tmp_path / "o")]) == 1
    assert "not found" in one_error_line(capsys)
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep me")
    assert compare_script.main([str(DEFAULT), str(DEFAULT), *data, "--out", str(foreign)]) == 1
    assert "refusing to replace" in one_error_line(capsys) and (foreign / "mine.txt").read_text() == "keep me"
    (tmp_path / "b").mkdir()
    assert compare_script.main([str(DEFAULT), str(tmp_path / "b"), *data, "--out", str(tmp_path)]) == 1
    assert "equals or contains the input" in one_error_line(capsys)
    assert compare_script.main([str(DEFAULT), str(DEFAULT), *data, "--sheet", "0", "--out", str(tmp_path / "o")]) == 1
    assert "--sheet" in one_error_line(capsys)
    assert not (tmp_path / "o").exists()


def read(out: Path) -> tuple[pd.DataFrame, dict]:
    return pd.read_csv(out / "comparison.csv", keep_default_na=True), json.loads((out / "comparison.json").read_text())


@pytest.mark.slow
def test_the_shipped_default_against_itself_has_no_gap(real_data, tmp_path, capsys):
    out = tmp_path / "self"
    assert compare_script.main([str(DEFAULT), str(DEFAULT), "--data", str(real_data), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "0 wins, 0 losses, 819 ties" in printed
    table, summary = read(out)
    assert len(table) == 819 and (table["gap"] == 0).all() and (table["outcome"] == "tie").all()
    assert (table["term_a"] == table["term_b"]).all() and list(table["term_a"]) == sorted(table["term_a"], reverse=True)
    assert summary["ties"] == 819 and summary["left_out"] == 0 and summary["score_a"] == summary["score_b"]
    classes = pd.read_csv(out / "per_class.csv")
    assert classes["count"].sum() == 819 and np.allclose(classes["term_a"], classes["term_b"])
    with Image.open(out / "contact_sheet.png") as sheet:
        assert sheet.width > 3 * 128 and sheet.height > 25 * 128  # 25 rows of 64 px tiles at scale 2
    # a rerun replaces its own folder
    assert compare_script.main([str(DEFAULT), str(DEFAULT), "--data", str(real_data), "--out", str(out),
                                "--sheet", "5"]) == 0
    with Image.open(out / "contact_sheet.png") as sheet:
        assert sheet.height < 10 * 128


@pytest.mark.slow
def test_against_a_folder_from_a_second_seed(real_data, tmp_path, capsys):
    folder = tmp_path / "seed1"
    assert generate_script.main(["--checkpoint", str(DEFAULT), "--test-captions", str(real_data / "test_captions.csv"),
                                 "--seed", "1", "--out", str(folder)]) == 0
    files = sorted(folder.glob("inference_*.jpg"))
    assert len(files) == 819
    for file in files[:19]:
        file.unlink()  # 19 captions without an image
    for file in files[19:60]:
        file.rename(file.with_name(f"inference_{int(file.stem.split('_')[1])}.jpg"))  # the unpadded form
    capsys.readouterr()
    out = tmp_path / "cmp"
    assert compare_script.main([str(DEFAULT), str(folder), "--data", str(real_data), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "left out            19 captions" in printed
    table, summary = read(out)
    assert summary["shared"] == 800 and summary["left_out"] == 19 and summary["missing_b"] == 19
    assert summary["wins"] + summary["losses"] + summary["ties"] == 800 and summary["wins"] > 100 < summary["losses"]
    assert table["gap"].isna().sum() == 19 and (table["outcome"] == "left out").sum() == 19
    # evaluate.py on the same folder: the same score, and its per-caption CSV holds the same terms
    scores, per_caption_csv = tmp_path / "b.json", tmp_path / "b.csv"
    assert evaluate_script.main(["--images", str(folder), "--data", str(real_data), "--out", str(scores),
                                 "--per-caption", str(per_caption_csv), "--no-inception"]) == 0
    assert summary["score_b"]["score"] == json.loads(scores.read_text())["score"]
    b = pd.read_csv(per_caption_csv).set_index("id")
    assert len(b) == 819 and b["missing"].sum() == 19
    joined = table.set_index("id")
    assert np.allclose(joined["term_b"], b.loc[joined.index, "term"], rtol=1e-5, equal_nan=True)


@pytest.mark.slow
def test_a_folder_of_another_caption_set_is_one_line(real_data, tmp_path, capsys):
    folder = tmp_path / "other"
    folder.mkdir()
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(folder / "inference_99999.jpg")
    assert compare_script.main([str(DEFAULT), str(folder), "--data", str(real_data), "--out", str(tmp_path / "o")]) == 1
    assert "different caption set" in one_error_line(capsys)
    assert not (tmp_path / "o").exists()

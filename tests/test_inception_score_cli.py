"""scripts/inception_score.py: competition CSV with the official evaluator (a real subprocess), user errors
(its main in-process)."""

from __future__ import annotations

import csv
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_official_evaluator import build_random_checkpoint  # noqa: E402

from gan_core.data.imagefolder import load_image_folder  # noqa: E402
from gan_core.eval.evaluators import get_evaluator  # noqa: E402
from gan_core.eval.metrics import competition_score  # noqa: E402
from scripts import inception_score  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "inception_score.py"


def run(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=ROOT.parent, timeout=300)


def assert_user_error(capsys, text: str, *args, code: int = 1) -> None:
    assert inception_score.main([*map(str, args)]) == code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], err


@pytest.fixture(scope="module")
def competition(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    (root / "ckpt").mkdir()
    build_random_checkpoint(root / "ckpt")
    rng = np.random.default_rng(0)
    images = root / "inference"
    images.mkdir()
    test_ids = [11, 4, 27, 8, 15]
    for test_id in test_ids:
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(images / f"inference_{test_id}.jpg")
    references = {test_id: rng.normal(0, 0.3, 102).astype(np.float32) for test_id in range(30)}
    (root / "eval_metrics.pkl").write_bytes(pickle.dumps(references))
    return root


@pytest.mark.slow
def test_official_scores_match_the_library(competition, tmp_path):
    out = tmp_path / "scores.csv"
    result = run(competition / "inference", out, 2, "--evaluator", "official",  # 5 images, batch 2
                 "--checkpoint", competition / "ckpt", "--references", competition / "eval_metrics.pkl")
    assert result.returncode == 0, result.stderr
    with open(out, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["score", "id"]
    assert [int(row[1]) for row in rows[1:]] == [0, 1, 2, 3, 4]
    scores = np.array([float(row[0]) for row in rows[1:]])

    evaluator = get_evaluator("official", checkpoint=competition / "ckpt",
                              references=competition / "eval_metrics.pkl")
    images, ids, _, _ = load_image_folder(competition / "inference")
    summary = competition_score(evaluator.predict(images)[0], ids, evaluator.references)
    assert scores.mean() == pytest.approx(summary["score"], rel=1e-5)
    printed = {line[:16].strip(): float(line[16:].split()[0]) for line in result.stdout.splitlines()[1:]}
    assert printed["score"] == pytest.approx(summary["score"], abs=1e-6)
    assert printed["inception score"] == pytest.approx(summary["inception_score"], abs=1e-6)
    assert printed["cosine"] + printed["0.5 / IS"] == pytest.approx(printed["score"], abs=2e-6)


def test_user_errors_are_one_line(competition, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    (tmp_path / "empty").mkdir()
    assert_user_error(capsys, "image folder is empty", tmp_path / "empty", out, 4, "--evaluator", "official",
                      "--checkpoint", "c", "--references", "r")
    assert_user_error(capsys, "image folder not found", tmp_path / "missing", out, 4, "--evaluator", "official",
                      "--checkpoint", "c", "--references", "r")
    # a bad BATCH is a usage error: exit code 2, as argparse's own
    assert_user_error(capsys, "BATCH must be a positive integer, got '0'", competition / "inference", out, 0, code=2)
    assert_user_error(capsys, "BATCH must be a positive integer", competition / "inference", out, "x", code=2)
    assert_user_error(capsys, "needs --checkpoint PATH and --references", competition / "inference", out, 4,
                      "--evaluator", "official", "--checkpoint", competition / "ckpt")
    assert not out.exists()


def test_help_warns_about_pickles(capsys):
    with pytest.raises(SystemExit) as exit_info:
        inception_score.main(["--help"])
    assert exit_info.value.code == 0 and "executes code" in capsys.readouterr().out

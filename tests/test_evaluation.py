"""evaluate_images / evaluate_checkpoint / baselines on the tiny world, the CLI's user errors, and
an integration test on the real data (prepared into a temporary folder)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image
from test_flowers_evaluator import tiny_world

from gan_core.data.dataset import PreparedDataset
from gan_core.data.imagefolder import load_image_folder
from gan_core.eval import evaluate as evaluation
from gan_core.eval.alignment import load_alignment
from gan_core.eval.evaluators import get_evaluator
from gan_core.eval.evaluators.flowers import DEFAULT_PATH as SHIPPED_FLOWERS
from gan_core.eval.evaluators.flowers import load_flowers_evaluator
from gan_core.eval.metrics import caption_cosine, competition_score, fid_from_features, inception_score, softmax
from gan_core.sample.snapshot import resolve_checkpoint
from scripts import evaluate as evaluate_script
from scripts import generate as generate_script

pytestmark = pytest.mark.slow  # trains the tiny evaluator and alignment model


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return tiny_world(tmp_path_factory, alignment=True, run=True)


@pytest.fixture(scope="module")
def models(world):
    return load_flowers_evaluator(world.flowers), load_alignment(world.alignment)


def run_script(name, *args, cwd=ROOT):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, str(ROOT / "scripts" / name), *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines()
            if line.strip() and not line.startswith(("W0", "I0", "E0", "WARNING: All log"))]


def test_numbers_agree_with_the_metric_functions(world, models):
    evaluator, alignment = models
    images, ids = evaluation.baseline_images("noise", world.data, seed=1)
    result = evaluation.evaluate_images(images, ids, world.data, evaluator=evaluator, alignment=alignment)
    json.dumps(result)  # JSON-able
    logits, features = evaluator.predict(images)
    expected = competition_score(logits, ids, evaluator.references)
    for key in ("score", "cosine", "inception_term", "inception_score"):
        assert result[key] == pytest.approx(expected[key], rel=1e-6)
    assert result["score"] == pytest.approx(result["cosine"] + result["inception_term"])
    assert result["inception_score"] == pytest.approx(inception_score(softmax(logits))[0])
    assert "inception_score_10" not in result and result["notes"]  # 8 images: no 10 splits
    real, real_ids = evaluation.baseline_images("real", world.data)
    assert result[f"fid_{evaluator.name}"] == pytest.approx(fid_from_features(features, evaluator.predict(real)[1]))
    reference = np.array([np.argmax(evaluator.references[int(i)]) for i in ids])
    assert result["class_top1"] == pytest.approx(np.mean(np.argmax(logits, 1) == reference))
    dataset = PreparedDataset(world.data)
    captions = [dataset.test_caption(int(i)) for i in ids]
    assert result["caption_cosine"] == pytest.approx(
        caption_cosine(alignment.embed_images(images), alignment.embed_captions(captions)), rel=1e-5)
    assert result["n_images"] == 8 and result["r_precision_candidates"] == 7 and 0 <= result["r_precision"] <= 1

    # The real test images reproduce their own references: agreement 1, FID ~0, cosine term ~0.
    real_result = evaluation.evaluate_images(real, real_ids, world.data, evaluator=evaluator, alignment=alignment)
    assert real_result["class_top1"] == 1.0 and real_result["class_top5"] == 1.0
    assert real_result["cosine"] < 1e-5 and abs(real_result[f"fid_{evaluator.name}"]) < 1e-3
    assert not any("test images" in n for n in real_result["notes"])  # the full set: no subset warning
    part = evaluation.evaluate_images(real[:3], real_ids[:3], world.data, evaluator=evaluator, alignment=alignment)
    assert any(n.startswith(f"only 3 of the {len(real_ids)} test images") for n in part["notes"])


def test_baselines(world):
    dataset = PreparedDataset(world.data)
    noise, ids = evaluation.baseline_images("noise", world.data, seed=3)
    assert noise.shape == (8, 64, 64, 3) and noise.min() >= 0 and noise.max() <= 255
    np.testing.assert_array_equal(noise, evaluation.baseline_images("noise", world.data, seed=3)[0])
    assert list(ids) == dataset.test_captions["ID"].astype(int).tolist()
    retrieved, _ = evaluation.baseline_images("retrieval", world.data)
    rows = evaluation.retrieval_rows(dataset, [dataset.test_caption(int(i)) for i in ids])
    assert set(rows) <= set(dataset.train_rows)
    np.testing.assert_array_equal(retrieved, np.asarray(dataset.images(64))[rows].astype(np.float32))
    with pytest.raises(evaluation.UserError, match="unknown baseline"):
        evaluation.baseline_images("bogus", world.data)


def test_checkpoint_equals_scoring_the_generated_folder_and_is_cached(world, models, tmp_path):
    evaluator, alignment = models
    folder = tmp_path / "inference"
    assert generate_script.main(["--checkpoint", str(world.run), "--test-captions",
                                 str(world.data / "test_captions.csv"), "--out", str(folder)]) == 0
    images, ids, _, problems = load_image_folder(folder)
    assert not problems
    expected = evaluation.evaluate_images(images, ids, world.data, evaluator=evaluator, alignment=alignment)

    before = evaluation.evaluations_run
    scored = evaluation.evaluate_checkpoint(world.run, world.data, evaluator=evaluator, alignment=alignment)
    assert evaluation.evaluations_run == before + 1 and scored["cached"] is False
    for key in ("score", "cosine", "inception_score", "fid_flowers", "class_top1", "caption_cosine", "r_precision"):
        assert scored[key] == pytest.approx(expected[key], rel=1e-6, abs=1e-9), key
    caches = list(resolve_checkpoint(world.run).glob("scores_flowers_*.json"))
    assert len(caches) == 1
    cache = caches[0]
    content = cache.read_bytes()

    again = evaluation.evaluate_checkpoint(world.run, world.data, evaluator=evaluator, alignment=alignment)
    assert evaluation.evaluations_run == before + 1 and again["cached"] is True  # nothing recomputed
    assert cache.read_bytes() == content
    assert {k: v for k, v in again.items() if k != "cached"} == json.loads(content)["result"]
    assert evaluation.load_cached_scores(cache.parent) == {"flowers": json.loads(content)["result"]}

    evaluator.identity = "retrained"  # another evaluator (e.g. retrained) invalidates the cache
    try:
        third = evaluation.evaluate_checkpoint(world.run, world.data, evaluator=evaluator, alignment=alignment)
    finally:
        evaluator.identity = load_flowers_evaluator(world.flowers).identity
    assert evaluation.evaluations_run == before + 2 and third["cached"] is False
    assert third["score"] == pytest.approx(scored["score"], rel=1e-6)
    assert cache.read_bytes() == content  # the other key's entry sits beside it

    # Other reference logits (--references): never read from, nor written over, the default entry.
    references = tmp_path / "other_references.pkl"
    shifted = {int(k): np.roll(v, 1) for k, v in evaluator.references.items()}
    references.write_bytes(pickle.dumps(shifted))
    other = get_evaluator("flowers", checkpoint=world.flowers, references=references)
    assert other.references_identity != evaluator.references_identity
    fourth = evaluation.evaluate_checkpoint(world.run, world.data, evaluator=other, alignment=alignment)
    assert evaluation.evaluations_run == before + 3 and fourth["cached"] is False
    assert fourth["cosine"] != pytest.approx(scored["cosine"], rel=1e-6)
    assert cache.read_bytes() == content
    again = evaluation.evaluate_checkpoint(world.run, world.data, evaluator=evaluator, alignment=alignment)
    assert again["cached"] is True and again["score"] == scored["score"]


@pytest.mark.parametrize("bad", ["abc", None, float("nan")])
def test_a_malformed_cached_score_is_recomputed(world, models, bad):
    evaluator, alignment = models
    good = evaluation.evaluate_checkpoint(world.run, world.data, evaluator=evaluator, alignment=alignment)
    plain = {k: v for k, v in good.items() if k != "cached"}  # the entry just read (other tests add psi entries)
    cache = next(p for p in resolve_checkpoint(world.run).glob("scores_flowers_*.json")
                 if json.loads(p.read_text())["result"] == plain)
    stored = json.loads(cache.read_text())
    stored["result"]["score"] = bad  # the right key, a malformed result (json writes nan as NaN)
    cache.write_text(json.dumps(stored))

    before = evaluation.evaluations_run
    again = evaluation.evaluate_checkpoint(world.run, world.data, evaluator=evaluator, alignment=alignment)
    assert evaluation.evaluations_run == before + 1 and again["cached"] is False
    assert again["score"] == pytest.approx(good["score"], rel=1e-6)
    assert json.loads(cache.read_text())["result"]["score"] == again["score"]  # the cache is mended


def test_cli_folder_with_bad_files_and_errors(world, tmp_path, capsys):
    """The script's one real subprocess run, then its errors through main in-process."""
    dataset = PreparedDataset(world.data)
    ids = dataset.test_captions["ID"].astype(int).tolist()
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for test_id in ids[:3]:
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(folder / f"inference_{test_id}.jpg")
    Image.fromarray(rng.integers(0, 256, (100, 80, 3), dtype=np.uint8)).save(folder / f"inference_{ids[3]}.png")
    (folder / "notes.txt").write_text("not an image")
    (folder / "inference_x.jpg").write_bytes(b"")
    (folder / f"inference_{ids[4]}.jpg").write_bytes(b"\xff\xd8 corrupt")
    out = tmp_path / "result.json"
    result = run_script("evaluate.py", "--images", folder, "--out", out, "--data", world.data,
                        "--evaluator-checkpoint", world.flowers, "--no-inception")  # realism: test_realism_wiring
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    skipped = [line for line in error_lines(result) if line.startswith("skipped")]
    assert len(skipped) == 3  # the text file, the name without ID, the corrupt JPEG
    saved = json.loads(out.read_text())
    assert saved["n_images"] == 4 and "competition score" in result.stdout  # the 100x80 PNG was resized

    (folder / "inference_999999.jpg").write_bytes((folder / f"inference_{ids[0]}.jpg").read_bytes())
    empty = tmp_path / "empty"
    empty.mkdir()
    for images, model, text in ((folder, world.flowers, "no reference logits: 999999"),
                                (empty, tmp_path / "no-model", "image folder is empty")):
        assert evaluate_script.main(["--images", str(images), "--out", str(tmp_path / "no.json"), "--data",
                                     str(world.data), "--evaluator-checkpoint", str(model)]) == 1
        captured = capsys.readouterr()
        lines = [line for line in captured.err.splitlines() if not line.startswith("skipped")]
        assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], captured.err
    assert not (tmp_path / "no.json").exists()


def test_real_data_baselines(shared_data, world, tmp_path_factory):
    """Real test images agree with their references (same evaluator); retrieval picks training images."""
    from gan_core.data.prepare import PrepareConfig, prepare

    data = tmp_path_factory.mktemp("real") / "oxford102"
    prepare(shared_data, data, PrepareConfig(sizes=(64,), competition_dir=str(shared_data / "competition")),
            progress=False)
    dataset = PreparedDataset(data)
    real, ids = evaluation.baseline_images("real", data)
    assert real.shape == (819, 64, 64, 3) and len(set(ids)) == 819
    shipped = (SHIPPED_FLOWERS / "weights.npz").is_file()
    evaluator = load_flowers_evaluator() if shipped else load_flowers_evaluator(world.flowers)
    # References computed here, on these very images: the shipped ones were computed on
    # data/oxford102, whose 64px images differ slightly (prepare's JPEG draft depends on the
    # largest prepared size, 76 there, 64 here).
    evaluator.references = dict(zip(ids.tolist(), evaluator.predict(real)[0]))
    result = evaluation.evaluate_images(real, ids, data, evaluator=evaluator, alignment=load_alignment(world.alignment))
    assert result["class_top1"] == 1.0 and result["n_images"] == 819 and "inception_score_10" in result
    captions = [dataset.test_caption(int(i)) for i in ids]
    rows = evaluation.retrieval_rows(dataset, captions)
    assert set(rows) <= set(dataset.train_rows)
    retrieved = dataset.captions[dataset.captions["split"] == "train"].groupby("row")["text"].apply(list)
    from gan_core.data.text import tokenize

    overlap = [len(set(tokenize(c)) & {w for t in retrieved[r] for w in tokenize(t)}) / len(set(tokenize(c)))
               for c, r in zip(captions, rows)]
    assert np.mean(overlap) > 0.6  # the retrieved image's captions share most words with the query

"""Commands never destroy a folder they did not make, check every output path before the work, and
turn bad values into one line (the hostile-but-honest user's findings, issue 24)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from synthetic import make_source

from gan_core import UserError, atomic
from gan_core import config as cfg
from gan_core.data.prepare import PrepareConfig, prepare
from scripts import evaluate as evaluate_script
from scripts import export_run as export_script
from scripts import generate as generate_script
from scripts import inception_score as inception_script
from scripts import prepare_data as prepare_script


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0], err
    return err[0]


def tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


# --- 1-3: replace only what the command made --------------------------------------------------------

@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return make_source(tmp_path_factory.mktemp("src") / "src", per_class=3, size=40)


@pytest.mark.parametrize("where", ["same", "parent", "unrelated"])
def test_prepare_refuses_an_output_that_is_not_its_own(tmp_path, source, capsys, where):
    copy = tmp_path / "data" / "src"
    shutil.copytree(source, copy)
    out = {"same": copy, "parent": copy.parent, "unrelated": tmp_path / "mine"}[where]
    if where == "unrelated":
        out.mkdir()
        (out / "precious.txt").write_text("hi")
    before = tree(out)
    assert prepare_script.main(["--source", str(copy), "--out", str(out), "--quiet"]) == 1
    line = one_error_line(capsys)
    assert ("equals or contains the input" in line) if where != "unrelated" else ("refusing to replace" in line)
    assert tree(out) == before  # nothing removed, nothing added


def test_prepare_replaces_its_own_output_and_an_empty_folder(tmp_path, source):
    out = tmp_path / "prepared"
    out.mkdir()  # empty: nothing to lose
    prepare(source, out, PrepareConfig(sizes=(64,)), progress=False)
    prepare(source, out, PrepareConfig(sizes=(64,)), progress=False, force=True)  # its own: replaced
    assert json.loads((out / "manifest.json").read_text())["format"].startswith("gan_core.dataset/")


@pytest.mark.parametrize("flags, says", [(["--max-len", "-5"], "--max-len"), (["--max-len", "0"], "--max-len"),
                                         (["--min-count", "0"], "--min-count")])
def test_prepare_refuses_bad_values_before_work(tmp_path, source, capsys, flags, says):
    assert prepare_script.main(["--source", str(source), "--out", str(tmp_path / "o"), "--quiet", *flags]) == 1
    assert says in one_error_line(capsys) and not (tmp_path / "o").exists()


def test_prepare_warns_of_a_tiny_vocabulary(tmp_path, source, capsys):
    assert prepare_script.main(["--source", str(source), "--out", str(tmp_path / "o"), "--quiet",
                                "--min-count", "100000"]) == 0
    assert "warning: the vocabulary has only 2 words" in capsys.readouterr().out


def test_export_refuses_foreign_folders_and_its_run_dir(tiny_run, tmp_path, capsys):
    run, _, _ = tiny_run
    mine = tmp_path / "v"
    mine.mkdir()
    (mine / "precious.txt").write_text("hi")
    assert export_script.main(["--run-dir", str(run), "--out", str(mine), "--snapshots", "epoch_0001"]) == 1
    assert "refusing to replace" in one_error_line(capsys) and (mine / "precious.txt").read_text() == "hi"
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    before = tree(copy)
    assert export_script.main(["--run-dir", str(copy), "--out", str(copy), "--snapshots", "epoch_0001"]) == 1
    assert "equals or contains the input" in one_error_line(capsys) and tree(copy) == before
    assert export_script.main(["--run-dir", str(copy), "--out", str(copy / "snapshots"), "--count", "1"]) == 1
    assert "refusing to replace" in one_error_line(capsys) and tree(copy) == before


def test_export_replaces_an_earlier_export(tiny_run, tmp_path):
    run, _, _ = tiny_run
    out = tmp_path / "shipped"
    assert export_script.main(["--run-dir", str(run), "--out", str(out), "--snapshots", "epoch_0001"]) == 0
    assert json.loads((out / "export.json").read_text())["snapshots"] == ["epoch_0001"]
    assert export_script.main(["--run-dir", str(run), "--out", str(out), "--snapshots", "epoch_0002"]) == 0
    assert [p.name for p in (out / "snapshots").iterdir()] == ["epoch_0002"]
    legacy = tmp_path / "legacy"  # an export made before the marker: recognised by its layout
    shutil.copytree(out, legacy)
    (legacy / "export.json").unlink()
    assert export_script.main(["--run-dir", str(run), "--out", str(legacy), "--snapshots", "epoch_0001"]) == 0


@pytest.mark.parametrize("count", ["-1", "0"])
def test_export_count_must_be_positive(tiny_run, tmp_path, capsys, count):
    run, _, _ = tiny_run
    assert export_script.main(["--run-dir", str(run), "--out", str(tmp_path / "o"), "--count", count]) == 1
    assert "--count must be at least 1" in one_error_line(capsys) and not (tmp_path / "o").exists()


def test_atomic_dir_leaves_a_foreign_folder_alone_at_the_last_moment(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(UserError, match="refusing to replace"):
        with atomic.atomic_dir(out, owned=lambda p: False) as tmp:
            (tmp / "new.txt").write_text("new")
            out.mkdir()  # appeared while the work ran
            (out / "precious.txt").write_text("hi")
    assert tree(out) == ["precious.txt"] and tree(tmp_path) == ["out", "out/precious.txt"]


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".tmp-out.{dead.pid}-abc"
    stale.mkdir()
    (stale / "big.bin").write_bytes(b"0" * 1000)
    mine = tmp_path / f".tmp-out.{os.getpid()}-live"  # this process's own: kept
    mine.mkdir()
    with atomic.atomic_dir(tmp_path / "out") as tmp:
        (tmp / "a").write_text("a")
    assert not stale.exists() and mine.exists() and (tmp_path / "out" / "a").is_file()


# --- 5: symlinks out of the folder -------------------------------------------------------------------

def test_confined_folder_read_never_opens_a_link_outside(tmp_path):
    from PIL import Image

    from gan_core.data.imagefolder import load_image_folder

    folder = tmp_path / "snap"
    folder.mkdir()
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(folder / "inference_0001.jpg")
    secret = tmp_path / "secret.jpg"
    shutil.copy(folder / "inference_0001.jpg", secret)
    (folder / "inference_6735.jpg").symlink_to(secret)
    _, ids, _, problems = load_image_folder(folder, confine=True)
    assert ids.tolist() == [1] and problems == [("inference_6735.jpg", "links outside the folder: not opened")]
    assert load_image_folder(folder)[1].tolist() == [1, 6735]  # a user's own command line may follow links


# --- 6-7: output paths checked first; full and read-only disks -------------------------------------

def test_generate_checks_the_zip_before_writing_any_image(tiny_run, tmp_path, capsys):
    run, data, _ = tiny_run
    out = tmp_path / "inference"
    assert generate_script.main(["--checkpoint", str(run), "--test-captions", str(data / "test_captions.csv"),
                                 "--out", str(out), "--zip", str(tmp_path)]) == 1
    assert "--zip" in one_error_line(capsys) and not out.exists()


def test_evaluate_and_inception_score_check_their_output_first(tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    assert evaluate_script.main(["--images", str(images), "--out", str(tmp_path)]) == 1
    assert "is a folder" in one_error_line(capsys)
    assert inception_script.main([str(images), str(tmp_path), "8"]) == 1
    assert "is a folder" in one_error_line(capsys)


@pytest.fixture
def small_disk(tmp_path):
    """A 600 KB tmpfs (root only; CI runs as root): a real full disk, not a simulated one."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_full_disk_is_one_line_and_leaves_no_partial_folder(tiny_run, small_disk, capsys):
    run, data, _ = tiny_run
    stat = os.statvfs(small_disk)
    (small_disk / "filler").write_bytes(b"0" * (stat.f_bavail * stat.f_frsize - 3000))  # room for less than 4 images
    out = small_disk / "inference"
    assert generate_script.main(["--checkpoint", str(run), "--test-captions", str(data / "test_captions.csv"),
                                 "--out", str(out), "--zip", str(small_disk / "sub.zip")]) == 1
    assert "No space left on device" in one_error_line(capsys)
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]  # no images, no temporaries, no zip


def test_read_only_output_is_refused_before_the_work(tiny_run, small_disk, capsys):
    run, data, _ = tiny_run
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        assert evaluate_script.main(["--checkpoint", str(run), "--data", str(data),
                                     "--out", str(small_disk / "r.json"), "--no-inception"]) == 1
        assert "Read-only file system" in one_error_line(capsys)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)


# --- 8-10: training refuses before it writes; snapshots survive a kill ----------------------------

def test_refused_resume_leaves_the_run_untouched(tiny_run, tmp_path, source):
    from tiny import tiny_config

    from gan_core.train.loop import train

    run, _, _ = tiny_run
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    other = tmp_path / "other"
    prepare(source, other, PrepareConfig(sizes=(64, 76), max_len=12), progress=False)  # another vocabulary
    vocab = (copy / "vocab.json").read_bytes()
    with pytest.raises(UserError, match="another vocabulary"):
        train(other, copy, tiny_config(epochs=3), log=lambda *_: None, progress=False)
    assert (copy / "vocab.json").read_bytes() == vocab


def test_bad_seed_and_infinite_rates_are_refused_before_the_run_dir_exists(tmp_path, capsys):
    from scripts import train as train_script

    for setting in ("seed=-1", "lr_g=inf", "lr_d=nan"):
        assert train_script.main(["--data", str(tmp_path / "nodata"), "--run-dir", str(tmp_path / "r"),
                                  "--set", setting]) == 1
        line = one_error_line(capsys)
        assert setting.split("=")[0] in line and not (tmp_path / "r").exists()


def test_a_kill_after_the_state_save_cannot_lose_the_epochs_snapshot(tiny_run, tmp_path, monkeypatch):
    """The snapshot is written before the epoch's state, so a crash between the two resumes into
    writing it again; before, the state came first and the resumed loop skipped the snapshot."""
    from tiny import tiny_config

    from gan_core.train import loop

    _, data, _ = tiny_run
    real_save, calls = loop.save_snapshot, []

    def crash_on_epoch_two(path, *args, **kwargs):
        calls.append(Path(path).name)
        if Path(path).name == "epoch_0002" and calls.count("epoch_0002") == 1:
            raise SystemExit("killed")  # as a kill -9 between the snapshot and the state would
        return real_save(path, *args, **kwargs)

    monkeypatch.setattr(loop, "save_snapshot", crash_on_epoch_two)
    with pytest.raises(SystemExit):
        loop.train(data, tmp_path / "run", tiny_config(), log=lambda *_: None, progress=False)
    summary = loop.train(data, tmp_path / "run", tiny_config(), log=lambda *_: None, progress=False)
    assert summary.snapshots == ["epoch_0001", "epoch_0002"]


@pytest.mark.parametrize("argv, says", [
    (["--seeds", "1" * 300], "--seeds must be integers from 0 to"),
    (["--seeds", "-3"], "--seeds must be integers from 0 to"),
    (["--seed", "-1"], "--seed must be an integer from 0 to"),
])
def test_generate_refuses_bad_seeds(tiny_run, tmp_path, capsys, argv, says):
    run, data, _ = tiny_run
    captions = tmp_path / "c.txt"
    captions.write_text("a red flower\n")
    mode = ["--captions-file", str(captions)] if argv[0] == "--seeds" else ["--test-captions",
                                                                          str(data / "test_captions.csv")]
    assert generate_script.main(["--checkpoint", str(run), *mode, "--out", str(tmp_path / "o"), *argv]) == 1
    line = one_error_line(capsys)
    assert says in line and len(line) < 400 and not (tmp_path / "o").exists()


def test_evaluate_refuses_a_negative_seed(tmp_path, capsys):
    assert evaluate_script.main(["--baseline", "noise", "--seed", "-2", "--out", str(tmp_path / "r.json")]) == 1
    assert "--seed must be an integer" in one_error_line(capsys)


# --- 12-14: stored files are validated --------------------------------------------------------------

@pytest.mark.parametrize("ngf", ["abc", -4])
def test_snapshot_metadata_is_validated(tiny_run, tmp_path, ngf):
    from gan_core.sample.sampler import Sampler

    run, _, _ = tiny_run
    snap = tmp_path / "snap"
    shutil.copytree(run / "snapshots" / "epoch_0001", snap)
    meta = json.loads((snap / "model.json").read_text())
    meta["model"]["ngf"] = ngf
    (snap / "model.json").write_text(json.dumps(meta))
    with pytest.raises(UserError, match="snapshot model config is corrupt.*ngf"):
        Sampler.load(snap)


def test_non_finite_weights_are_refused_on_load(tiny_run, tmp_path):
    from gan_core import storage
    from gan_core.sample.sampler import Sampler

    run, _, _ = tiny_run
    snap = tmp_path / "snap"
    shutil.copytree(run / "snapshots" / "epoch_0001", snap)
    arrays = storage.read_weights(snap / "weights.npz")
    name = next(k for k in arrays if k.startswith("generator/") and arrays[k].ndim > 1)
    arrays[name] = np.full_like(arrays[name], np.nan)
    storage.save_weights(snap / "weights.npz", arrays)
    with pytest.raises(UserError, match="non-finite weights"):
        Sampler.load(snap)


def test_a_malformed_cached_score_is_not_trusted():
    from gan_core.eval.evaluate import SCORE_FIELDS, well_formed

    good = {"score": 0.3, "cosine": 0.25, "inception_term": 0.05, "inception_score": 6.0, "n_images": 819, "note": "x"}
    assert well_formed(good, SCORE_FIELDS)
    assert not well_formed({**good, "score": "abc"}, SCORE_FIELDS)
    assert not well_formed({**good, "cosine": float("nan")}, SCORE_FIELDS)
    assert not well_formed({k: v for k, v in good.items() if k != "score"}, SCORE_FIELDS)
    assert not well_formed(["score"], SCORE_FIELDS)


def test_a_long_caption_is_echoed_cut(tmp_path, capsys, tiny_run):
    run, _, _ = tiny_run
    captions = tmp_path / "c.txt"
    captions.write_text("a red flower\n" + "!" * 1_000_000 + "\n")
    assert generate_script.main(["--checkpoint", str(run), "--captions-file", str(captions),
                                 "--out", str(tmp_path / "o")]) == 1
    line = one_error_line(capsys)
    assert "line 2" in line and len(line) < 500 and "1000000 characters" in line


def test_truncated_jpeg_gives_no_libjpeg_line(tmp_path, capfd):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)).save(buffer, "JPEG")
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "inference_0001.jpg").write_bytes(buffer.getvalue())
    (folder / "inference_0002.jpg").write_bytes(buffer.getvalue()[:200])
    from gan_core.data.imagefolder import load_image_folder

    _, ids, _, problems = load_image_folder(folder)
    assert ids.tolist() == [1] and problems[0][0] == "inference_0002.jpg"
    assert "JPEG library" not in capfd.readouterr().err


# --- 15: the competition's file names ---------------------------------------------------------------

def test_submission_files_have_the_templates_names_in_id_order(tiny_run, tmp_path):
    import zipfile

    from gan_core.data.imagefolder import load_image_folder
    from gan_core.sample.inference import competition_file_name, generate_competition
    from gan_core.sample.sampler import Sampler

    run, _, _ = tiny_run
    rows = [(7, "a red flower"), (23, "a white flower"), (120, "petals"), (1008, "a yellow flower")]
    written = generate_competition(Sampler.load(run), rows, tmp_path / "inference", zip_path=tmp_path / "s.zip")
    names = [p.name for p in written]
    assert names == ["inference_0007.jpg", "inference_0023.jpg", "inference_0120.jpg", "inference_1008.jpg"]
    assert sorted(names) == [competition_file_name(i) for i in sorted(i for i, _ in rows)]
    with zipfile.ZipFile(tmp_path / "s.zip") as archive:
        assert archive.namelist() == [f"inference/{n}" for n in sorted(names)]
    (tmp_path / "inference" / "inference_0023.jpg").rename(tmp_path / "inference" / "inference_23.jpg")
    _, ids, names, _ = load_image_folder(tmp_path / "inference")  # both forms read, in name order as the scorer
    assert sorted(ids.tolist()) == [7, 23, 120, 1008] and names == sorted(names)


# --- 16-17: one TensorFlow; no import cycle ----------------------------------------------------------

def test_one_tensorflow_distribution():
    from importlib import metadata

    from conftest import ROOT

    required = [line.split("=")[0].split(">")[0].split("[")[0].strip() for line in
                (ROOT / "requirements.txt").read_text().splitlines() if line.strip().startswith("tensorflow")]
    assert required == ["tensorflow"]  # what tf-keras depends on by name: no second copy
    installed = {d.metadata["Name"].lower().replace("_", "-") for d in metadata.distributions()}
    assert "tensorflow" in installed and "tensorflow-cpu" not in installed


def test_snapshot_module_is_the_on_disk_format_alone():
    import ast

    from conftest import ROOT

    tree_ = ast.parse((ROOT / "gan_core" / "sample" / "snapshot.py").read_text())
    imported = {n.module for n in ast.walk(tree_) if isinstance(n, ast.ImportFrom)}
    assert "gan_core.sample.sampler" not in imported


def test_config_validation_covers_every_float():
    with pytest.raises(UserError, match="finite"):
        cfg.with_overrides(cfg.TrainConfig(), {"lr_g": "inf"})

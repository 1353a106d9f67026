import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from synthetic import make_source

from gan_core import UserError
from gan_core.data.dataset import PreparedDataset, load_class_ids
from gan_core.data.prepare import PrepareConfig, prepare
from scripts import prepare_data


@pytest.mark.parametrize("layout", ["jpg", "102flowers", "images_128"])
def test_layouts_prepare_to_the_same_dataset(tmp_path, layout):
    src = make_source(tmp_path / "src", per_class=5, image_dir=layout)
    summary = prepare(src, tmp_path / "out", PrepareConfig(sizes=(32, 40)), progress=False)
    assert summary.images == 20 and summary.captions == 200 and summary.vocabulary > 10
    ds = PreparedDataset(tmp_path / "out", verify_checksums=True)
    assert ds.images(32).shape == (20, 32, 32, 3) and ds.images(40).dtype == np.uint8
    assert len(ds.captions) == 200 and ds.tokens.shape == (200, 20)
    # Default split: every 10th image of each class by id -> 0 of 5 per class; with 12 per class, 1.
    assert summary.train + summary.test == 20


def test_default_split_is_stratified_and_deterministic(tmp_path):
    src = make_source(tmp_path / "src", per_class=20)
    a = prepare(src, tmp_path / "a", PrepareConfig(sizes=(16,)), progress=False)
    b = prepare(src, tmp_path / "b", PrepareConfig(sizes=(16,)), progress=False)
    assert a.test == b.test == 8 and a.train == 72  # 2 of 20 per class, 4 classes
    ta = pd.read_csv(tmp_path / "a" / "images.csv")
    tb = pd.read_csv(tmp_path / "b" / "images.csv")
    assert ta.equals(tb)
    classes = load_class_ids(tmp_path / "a")
    assert sorted(set(classes[ta["split"] == "test"])) == [1, 2, 3, 4]


def test_broken_files_are_converted_or_skipped_and_counted(tmp_path):
    src = make_source(tmp_path / "src", per_class=3, broken=True)
    summary = prepare(src, tmp_path / "out", PrepareConfig(sizes=(16,)), progress=False)
    skipped = {why.split(" (")[0]: path for why, path in summary.skipped}
    converted = [why for why, _ in summary.converted]
    assert "unreadable image" in skipped  # truncated + garbage
    assert sum(w.startswith("unreadable image") for w, _ in summary.skipped) == 2
    assert "caption file without an image" in skipped
    assert "image without captions" in skipped
    assert "empty caption file" in skipped
    assert "caption file is not UTF-8 text" in skipped
    assert any("L -> RGB" in c for c in converted)
    assert any("CMYK -> RGB" in c for c in converted)
    assert any("PNG data" in c for c in converted)
    # 12 good + grayscale + cmyk + png
    assert summary.images == 15
    ds = PreparedDataset(tmp_path / "out")
    gray_row = ds.row_of_image_id(12 + 3)
    img = ds.images(16)[gray_row]
    assert img.shape == (16, 16, 3) and np.all(img[..., 0] == img[..., 1])
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert len(manifest["summary"]["skipped"]) == len(summary.skipped)


def test_rerun_is_idempotent_and_fast(tmp_path):
    src = make_source(tmp_path / "src", per_class=5)
    prepare(src, tmp_path / "out", PrepareConfig(sizes=(16,)), progress=False)
    before = (tmp_path / "out" / "images_16.npy").stat().st_mtime_ns
    again = prepare(src, tmp_path / "out", PrepareConfig(sizes=(16,)), progress=False)
    assert again.up_to_date and again.images == 20
    assert (tmp_path / "out" / "images_16.npy").stat().st_mtime_ns == before
    # A changed source is picked up.
    time.sleep(0.01)
    (src / "text_c10" / "class_00001" / "image_00001.txt").write_text("a changed caption\n")
    changed = prepare(src, tmp_path / "out", PrepareConfig(sizes=(16,)), progress=False)
    assert not changed.up_to_date and changed.captions == 191


def test_split_csv_and_errors(tmp_path):
    src = make_source(tmp_path / "src", per_class=5)
    split = tmp_path / "split.csv"
    split.write_text("image_id,split\n" + "".join(f"{i},{'test' if i % 4 == 0 else 'train'}\n" for i in range(1, 21)))
    s = prepare(src, tmp_path / "out", PrepareConfig(sizes=(16,), split_csv=str(split)), progress=False)
    assert s.test == 5 and s.train == 15
    test_caps = pd.read_csv(tmp_path / "out" / "test_captions.csv")
    assert sorted(test_caps["ID"]) == [4, 8, 12, 16, 20]
    split.write_text("image_id,split\n1,validation\n")
    with pytest.raises(UserError, match="unknown split"):
        prepare(src, tmp_path / "out2", PrepareConfig(sizes=(16,), split_csv=str(split)), progress=False)


def test_competition_files_decode_to_captions(tmp_path):
    src = make_source(tmp_path / "src", per_class=5)
    comp = tmp_path / "comp"
    (comp / "dictionary").mkdir(parents=True)
    words = ["<PAD>", "flower", "a", "red", "yellow"]
    id2word = np.array([[str(i), w] for i, w in enumerate(words)] + [["5", "<PAD>"], ["6", "<RARE>"]])
    np.save(comp / "dictionary" / "id2Word.npy", id2word)
    np.save(comp / "dictionary" / "word2Id.npy", id2word[:, ::-1])
    # image 3 is red ("a red flower" is its 3rd caption); image 7 is yellow with one rare word.
    pd.DataFrame({"ID": [3, 7], "Captions": [[2, 3, 1] + [5] * 17, [2, 6, 1] + [5] * 17]}).to_pickle(comp / "testData.pkl")
    s = prepare(src, tmp_path / "out", PrepareConfig(sizes=(16,), competition_dir=str(comp)), progress=False)
    assert s.test == 2 and s.test_captions_matched == 2
    caps = pd.read_csv(tmp_path / "out" / "test_captions.csv").set_index("ID")["caption"].to_dict()
    assert caps == {3: "a red flower", 7: "a yellow flower"}


def test_nothing_usable_is_one_line_error_and_no_dataset(tmp_path, capsys):
    src = tmp_path / "src"
    (src / "jpg").mkdir(parents=True)
    (src / "jpg" / "image_00001.jpg").write_bytes(b"garbage")
    (src / "text_c10" / "class_00001").mkdir(parents=True)
    (src / "text_c10" / "class_00001" / "image_00001.txt").write_text("a flower\n")
    assert prepare_data.main(["--source", str(src), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and err.startswith("error: nothing usable")
    assert not (tmp_path / "out").exists()
    assert prepare_data.main(["--source", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "does not exist" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_interrupted_run_leaves_no_loadable_dataset(tmp_path):
    src = make_source(tmp_path / "src", per_class=40, size=300)
    out = tmp_path / "out"
    cmd = [sys.executable, str(ROOT / "scripts" / "prepare_data.py"), "--source", str(src), "--out", str(out),
           "--sizes", "64,76,128", "--quiet"]
    interrupted = 0
    for delay in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            proc.kill()  # SIGKILL: no cleanup code runs
            interrupted += 1
        proc.wait()
        if proc.returncode == 0:
            assert PreparedDataset(out, verify_checksums=True).images(128).shape[0] == 160
            break
        try:
            PreparedDataset(out)  # the check training runs
        except UserError:
            continue  # killed before the final commit: nothing loads
        # Killed after the manifest's atomic commit, while the interpreter was exiting (a loaded
        # machine makes that window wide): then the dataset is whole, never a part of it.
        whole = PreparedDataset(out, verify_checksums=True)
        assert whole.images(128).shape[0] == 160 and whole.images(64).shape[0] == 160
    assert interrupted >= 1
    subprocess.run(cmd, check=True, capture_output=True)  # a rerun completes, leftovers or not
    assert PreparedDataset(out, verify_checksums=True).images(64).shape[0] == 160


def test_each_size_is_independent_of_the_other_sizes(tmp_path):
    src = make_source(tmp_path / "src", per_class=3, size=300)
    prepare(src, tmp_path / "one", PrepareConfig(sizes=(64,)), progress=False)
    prepare(src, tmp_path / "two", PrepareConfig(sizes=(64, 128)), progress=False)
    assert np.array_equal(PreparedDataset(tmp_path / "one").images(64), PreparedDataset(tmp_path / "two").images(64))

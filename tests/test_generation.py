"""Generation API and CLI on a tiny trained run."""

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image

from gan_core import UserError
from gan_core.sample.sampler import EmptyCaptionError, Sampler, lerp, seed_noise, slerp
from scripts import generate as generate_script


@pytest.fixture(scope="module")
def run(tiny_run):
    """(run dir, data dir): the session's tiny run (2 epochs), read only."""
    return tiny_run[0], tiny_run[1]


@pytest.fixture(scope="module")
def gen(run):
    return Sampler.load(run[0])


def test_same_caption_and_seed_give_the_same_image_whatever_the_batch(gen):
    captions = ["a red flower", "a yellow flower with wide petals", "blue petals"] * 15  # 45 > one batch
    seeds = list(range(45))
    together = gen.generate(captions, seeds)
    assert together.shape == (45, 64, 64, 3) and together.dtype == np.uint8
    alone = np.stack([gen.generate([c], [s])[0] for c, s in zip(captions[:5], seeds[:5])])
    assert np.array_equal(together[:5], alone)
    order = np.random.default_rng(0).permutation(45)
    shuffled = gen.generate([captions[i] for i in order], [seeds[i] for i in order])
    assert_same_up_to_float_rounding(shuffled, together[order])
    grid = gen.grid(["a red flower", "blue petals"], [3, 4])
    assert grid.shape == (2, 2, 64, 64, 3)
    assert np.array_equal(grid[1, 0], gen.generate(["blue petals"], [3])[0])


def assert_same_up_to_float_rounding(a, b):
    """Equal images, but for a value on a rounding boundary: a batched matmul sums in an order that
    depends on a row's position in its batch (Eigen's tiling; ~1e-6 apart), so one such value in
    ~1e5 may land one grey level away (the shipped default shows it too, before and after the
    package moved). Noise or captions that followed the batch would move every pixel."""
    diff = np.abs(a.astype(int) - b.astype(int))
    assert diff.max() <= 1 and np.count_nonzero(diff) <= diff.size * 1e-5, (diff.max(), np.count_nonzero(diff))


def test_seeds_and_captions_change_the_image(gen):
    a, b = gen.generate(["a red flower", "a red flower"], [0, 1])
    assert not np.array_equal(a, b)
    c, d = gen.generate(["a red flower", "a blue flower"], [5, 5])
    assert not np.array_equal(c, d)


def test_interpolation_endpoints(gen):
    strip = gen.interpolate_noise("a red flower", 0, 1, steps=5, mode="slerp")
    ends = gen.generate(["a red flower"] * 2, [0, 1])
    assert strip.shape == (5, 64, 64, 3)
    assert np.abs(strip[0].astype(int) - ends[0]).max() <= 1 and np.abs(strip[-1].astype(int) - ends[1]).max() <= 1
    caps = gen.interpolate_captions("a red flower", "a blue flower", seed=2, steps=4)
    assert caps.shape == (4, 64, 64, 3) and not np.array_equal(caps[0], caps[-1])
    a, b = seed_noise([0, 1], 8)
    path = slerp(a, b, 7)
    assert np.allclose(path[0], a, atol=1e-6) and np.allclose(path[-1], b, atol=1e-6)
    norms = np.linalg.norm(path, axis=1)
    assert norms.min() > 0.9 * min(np.linalg.norm(a), np.linalg.norm(b))  # no shrinking through the middle
    assert np.allclose(lerp(a, b, 3)[1], (a + b) / 2)


def test_empty_and_unknown_captions(gen):
    with pytest.raises(EmptyCaptionError):
        gen.generate(["  ...  "], [0])
    with pytest.warns(UserWarning, match="no known word"):
        images = gen.generate(["zzqx wvvk"], [0])
    assert images.shape == (1, 64, 64, 3)


def cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "generate.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_cli_caption_file_names_and_sizes(run, tmp_path, capsys):
    caps = tmp_path / "caps.txt"
    caps.write_text("a red flower\na yellow flower\n")
    out = tmp_path / "out"
    assert generate_script.main(["--checkpoint", str(run[0]), "--captions-file", str(caps), "--seeds", "0,7",
                                 "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith("wrote 4 images to ")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["0000_s0.png", "0000_s7.png", "0001_s0.png", "0001_s7.png", "generation.json"]
    record = json.loads((out / "generation.json").read_text())
    assert record["mode"] == "captions" and record["seeds"] == [0, 7] and record["images"] == 4
    img = Image.open(out / "0001_s7.png")
    assert img.size == (64, 64) and img.mode == "RGB"


@pytest.mark.slow
def test_cli_competition_mode_writes_one_jpeg_per_test_id(run, tmp_path):
    """The script's one real subprocess run (the other CLI tests call its main in-process)."""
    run_dir, data = run
    proc = cli("--checkpoint", run_dir / "snapshots" / "epoch_0001", "--test-captions", data / "test_captions.csv",
               "--out", tmp_path / "inf", "--zip", tmp_path / "sub.zip")
    assert proc.returncode == 0, proc.stderr
    ids = sorted(int(line.split(",")[0]) for line in (data / "test_captions.csv").read_text().splitlines()[1:])
    files = sorted(p.name for p in (tmp_path / "inf").iterdir())
    assert files == sorted([f"inference_{i:04d}.jpg" for i in ids] + ["generation.json"])
    img = Image.open(tmp_path / "inf" / f"inference_{ids[0]:04d}.jpg")
    assert img.format == "JPEG" and img.size == (64, 64) and img.mode == "RGB"
    assert len(zipfile.ZipFile(tmp_path / "sub.zip").namelist()) == len(ids)  # images only, not the record


def test_cli_errors_are_one_line(run, tmp_path, capsys):
    run_dir, _ = run
    good = tmp_path / "good.txt"
    good.write_text("a red flower\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    blank_line = tmp_path / "blank.txt"
    blank_line.write_text("a red flower\n   \nblue\n")
    no_snap = tmp_path / "nosnap"
    no_snap.mkdir()
    corrupt = tmp_path / "corrupt"
    import shutil

    shutil.copytree(run_dir / "snapshots" / "epoch_0001", corrupt)
    (corrupt / "weights.npz").write_bytes(b"not a zip")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")

    def cli_error(*args) -> str:
        assert generate_script.main([*map(str, args)]) == 1, args
        captured = capsys.readouterr()
        lines = captured.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and captured.out == "", (args, captured)
        return lines[0]

    cases = [
        (("--checkpoint", tmp_path / "missing", "--captions-file", good), "checkpoint not found"),
        (("--checkpoint", no_snap, "--captions-file", good), "no snapshot"),
        (("--checkpoint", corrupt, "--captions-file", good), "corrupt"),
        (("--checkpoint", run_dir, "--captions-file", empty), "is empty"),
        (("--checkpoint", run_dir, "--captions-file", blank_line), "line 2"),
        (("--checkpoint", run_dir, "--captions-file", good, "--seeds", "a,b"), "--seeds"),
    ]
    for args, expected in cases:
        assert expected in cli_error(*args, "--out", tmp_path / "o"), args
    assert not (tmp_path / "o").exists()
    assert "is not a folder" in cli_error("--checkpoint", run_dir, "--captions-file", good,
                                                        "--out", a_file / "sub")
    unknown = tmp_path / "unknown.txt"
    unknown.write_text("zzqx wvvk\n")
    assert generate_script.main(["--checkpoint", str(run_dir), "--captions-file", str(unknown),
                                 "--out", str(tmp_path / "u")]) == 0
    assert "warning: caption 0 has no known word" in capsys.readouterr().err
    assert (tmp_path / "u" / "0000_s0.png").is_file()


def test_generator_rejects_non_snapshots(tmp_path):
    with pytest.raises(UserError, match="checkpoint not found"):
        Sampler.load(tmp_path / "nothing")


def test_export_keeps_generation_close_and_drops_state(run, tmp_path):
    from gan_core.sample.export import export_run, pick_spread

    run_dir, _ = run
    chosen = export_run(run_dir, tmp_path / "ship", count=5)
    assert chosen == ["epoch_0001", "epoch_0002"]
    assert not (tmp_path / "ship" / "state").exists() and (tmp_path / "ship" / "config.json").is_file()
    shipped, original = Sampler.load(tmp_path / "ship"), Sampler.load(run_dir)
    a = shipped.generate(["a red flower", "blue petals"], [0, 1]).astype(int)
    b = original.generate(["a red flower", "blue petals"], [0, 1]).astype(int)
    assert np.abs(a - b).max() <= 8 and np.abs(a - b).mean() < 1.0
    assert pick_spread([f"e{i}" for i in range(21)], 5) == ["e0", "e5", "e10", "e15", "e20"]
    with pytest.raises(UserError, match="not in"):
        export_run(run_dir, tmp_path / "x", ["epoch_0099"])


def test_export_ships_a_cache_only_while_its_key_names_the_exported_weights(run, tmp_path):
    """A float16 copy is other weights: the float32 numbers must not pass for its own. A float32
    export keeps the very bytes, and with them every cache."""
    import shutil

    from gan_core import storage
    from gan_core.eval.diversity import diversity_key
    from gan_core.explore.embeddings import projection_key
    from gan_core.sample.export import export_run
    from gan_core.sample.snapshot import text_encoder_digest

    run_dir = tmp_path / "run"
    shutil.copytree(run[0], run_dir, ignore=shutil.ignore_patterns("state"))
    snap = run_dir / "snapshots" / "epoch_0002"
    storage.write_cache(snap, "diversity", diversity_key(snap, ["a red flower"], [0, 1], None), {"pixels": 1.0})
    storage.write_cache(snap, "umap", projection_key(text_encoder_digest(snap), ["a red flower"]), {"layout": [[0, 0]]})
    (snap / "notes.txt").write_text("kept")

    half = tmp_path / "half"
    export_run(run_dir, half, ["epoch_0002"])
    names = sorted(p.name for p in (half / "snapshots" / "epoch_0002").iterdir())
    assert not [n for n in names if n.startswith(("diversity_", "umap_"))] and "notes.txt" in names
    whole = tmp_path / "whole"
    export_run(run_dir, whole, ["epoch_0002"], float16=False)
    kept = whole / "snapshots" / "epoch_0002"
    assert storage.file_identity(kept / "weights.npz") == storage.file_identity(snap / "weights.npz")
    assert storage.read_cache(kept, "diversity", diversity_key(kept, ["a red flower"], [0, 1], None)) == {"pixels": 1.0}
    assert len(list(kept.glob("umap_*.json"))) == 1


def test_text_encoder_digest_follows_the_encoder_weights_only(run, tmp_path):
    import shutil

    from gan_core.sample.snapshot import list_snapshots, text_encoder_digest

    original = list_snapshots(run[0])[0]
    base = text_encoder_digest(original)
    arrays = dict(np.load(original / "weights.npz"))

    def variant(name, change):
        folder = tmp_path / name
        shutil.copytree(original, folder)
        np.savez(folder / "weights.npz", **{k: change(k, v) for k, v in arrays.items()})
        return text_encoder_digest(folder)

    assert variant("same", lambda k, v: v) == base
    assert variant("g", lambda k, v: v + 1 if k.startswith("generator/") else v) == base  # only G trained
    assert variant("t", lambda k, v: v * 2 if k.startswith("text_encoder/") else v) != base
    (tmp_path / "same" / "weights.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="corrupt"):
        text_encoder_digest(tmp_path / "same")

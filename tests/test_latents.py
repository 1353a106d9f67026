"""Latent files: bit-exact round trips, one-line errors, and `generate.py --latents` drawing the
very image a projection or the Generate page showed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gan_core import UserError
from gan_core.explore import latents
from gan_core.explore.latents import Latent

ROOT = Path(__file__).resolve().parents[1]
SNAP = ROOT / "checkpoints" / "default" / "snapshots" / "epoch_0270"


def test_latent_file_round_trips_bit_exactly():
    rng = np.random.default_rng(3)
    z = rng.standard_normal(100).astype(np.float32)
    z[:3] = [np.float32(1e-38), np.float32(-3.4e38), np.nextafter(np.float32(1), np.float32(2))]
    sentence = rng.standard_normal(256).astype(np.float32)
    text = latents.to_json(Latent(z, "a red flower", 0.7, "abc123", sentence, "projector"))
    back = latents.from_json(text, noise_dim=100)
    assert back.z.dtype == np.float32 and back.z.tobytes() == z.tobytes()
    assert back.sentence.tobytes() == sentence.tobytes()
    assert (back.caption, back.psi, back.digest, back.source) == ("a red flower", 0.7, "abc123", "projector")
    assert latents.to_json(back) == text
    flat = json.loads(text)["z"]  # a flat list: what the report grid's Cell.latent takes
    assert isinstance(flat, list) and len(flat) == 100 and all(isinstance(v, float) for v in flat)


def test_bad_files_are_one_line_errors():
    good = json.loads(latents.to_json(Latent(np.zeros(100, np.float32), "x", 1.0, "abc")))
    bad = ["{ not json", "[]", json.dumps({**good, "z": [[1, 2]]}), json.dumps({**good, "z": [1, "a"]}),
           json.dumps({**good, "z": [float("nan")]}), json.dumps({**good, "psi": 2}),
           json.dumps({**good, "format": "other/9"})]
    for text in bad:
        with pytest.raises(UserError) as err:
            latents.from_json(text, noise_dim=100)
        assert "\n" not in str(err.value), text
    with pytest.raises(UserError, match="64 noise values but this snapshot's noise has 100"):
        latents.from_json(json.dumps({**good, "z": [0.0] * 64}), noise_dim=100)


def test_another_snapshot_of_the_same_size_loads_with_a_note():
    latent = latents.from_json(latents.to_json(Latent(np.ones(100, np.float32), "x", 1.0, "aaa")), 100)
    assert "another snapshot" in latents.note(latent, "bbb") and latents.note(latent, "aaa") is None


@pytest.mark.slow
def test_generate_renders_saved_latents_bit_exactly(tmp_path):
    from PIL import Image

    from gan_core.sample.sampler import Sampler

    sampler = Sampler.load(SNAP)
    caption = "this flower has white petals and a yellow center"
    expected = sampler.generate([caption, caption], [5, 6], truncation=0.7)
    digest = latents.snapshot_digest(SNAP)
    files = []
    for seed in (5, 6):
        files.append(tmp_path / f"s{seed}.json")
        files[-1].write_text(latents.to_json(Latent(sampler.noise([seed])[0], caption, 0.7, digest)))
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "generate.py"), "--checkpoint", str(SNAP),
                          "--latents", *map(str, files), "--out", str(out)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    drawn = np.stack([np.asarray(Image.open(out / f"latent_{i:04d}.png")) for i in range(2)])
    assert np.array_equal(drawn, expected)
    assert json.loads((out / "generation.json").read_text())["mode"] == "latents"
    # a rerun replaces its own folder; a latent of another noise size is one line, exit 1
    (tmp_path / "small.json").write_text(latents.to_json(Latent(np.zeros(64, np.float32), caption, 1.0, "x")))
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # the script's own quiet default
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "generate.py"), "--checkpoint", str(SNAP),
                          "--latents", str(tmp_path / "small.json"), "--out", str(out)], capture_output=True,
                         text=True, check=False, env=env)
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "another architecture" in run.stderr


def test_generate_owns_a_folder_of_rendered_latents_and_nothing_more(tmp_path):
    """generate.py may replace any of its own outputs, --latents folders included, and nothing else."""
    from gan_core.sample.inference import is_generated_folder

    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "generation.json").write_text(json.dumps({"mode": latents.RENDER_MODE}))
    (folder / "latent_0000.png").write_bytes(b"png")
    assert is_generated_folder(folder) and latents.is_render_folder(folder)
    (folder / "notes.txt").write_text("mine")
    assert not is_generated_folder(folder) and not latents.is_render_folder(folder)

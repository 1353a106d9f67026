"""Best-of-N by the GAN's own discriminator, end to end on the tiny trained run (whose snapshots hold
their D): the choice itself, the CLI records, the rebuildable report grid, the cache keys, and
snapshots without a D (export can leave it out), which refuse N > 1 with one clear line."""

import csv
import io
import json

import numpy as np
import pytest
from test_generation import gen, run  # noqa: F401  (the tiny trained run and its Sampler)

from gan_core import UserError, storage
from gan_core.sample.export import export_run
from gan_core.sample.sampler import Sampler, candidate_noise, check_best_of, seed_noise
from gan_core.sample.snapshot import list_snapshots, read_meta
from scripts import export_run as export_script
from scripts import generate, report_grid

CAPTIONS = ["a red flower", "a yellow flower with wide petals", "blue petals", "white petals"]


def test_candidate_zero_is_the_seed_and_the_others_are_their_own_streams():
    np.testing.assert_array_equal(candidate_noise([3, 9], 16, 0), seed_noise([3, 9], 16))
    first, second = candidate_noise([3, 9], 16, 1), candidate_noise([3, 9], 16, 2)
    assert not np.allclose(first, seed_noise([3, 9], 16)) and not np.allclose(first, second)
    np.testing.assert_array_equal(candidate_noise([9], 16, 1)[0], first[1])  # per seed, whatever the batch


@pytest.mark.parametrize("n", [0, -1, 65, 2.5, True])
def test_best_of_outside_one_to_64_is_refused(n):
    with pytest.raises(UserError, match="best-of N must be a whole number from 1 to 64"):
        check_best_of(n)


def test_each_image_is_the_candidate_its_d_rates_highest(gen):
    assert gen.can_rank
    seeds = [0, 1, 2, 3]
    emb = gen.encode(CAPTIONS).embeddings
    candidates = [gen.from_embeddings(emb, gen.noise(seeds, 0.9, k)) for k in range(4)]
    logits = np.stack([gen.rate(c, emb) for c in candidates])  # [4 candidates, 4 images]
    chosen = gen.generate(CAPTIONS, seeds, 0.9, best_of=4)
    for i, k in enumerate(logits.argmax(0)):
        assert np.array_equal(chosen[i], candidates[k][i])
    assert gen.rate(chosen, emb).min() >= logits[0].min()
    # N = 1 is plain generation; the choice is reproducible, and the grid agrees with the pairs
    assert np.array_equal(gen.generate(CAPTIONS, seeds, best_of=1), gen.generate(CAPTIONS, seeds))
    assert np.array_equal(gen.generate(CAPTIONS, seeds, 0.9, best_of=4), chosen)
    grid = gen.grid(CAPTIONS[:2], [5, 6], best_of=3)
    assert np.array_equal(grid[1, 0], gen.generate([CAPTIONS[1]], [5], best_of=3)[0])


def test_more_candidates_never_lower_the_chosen_rating(gen):
    seeds = list(range(8))
    captions = ["a pink flower with round petals"] * 8
    emb = gen.encode(captions).embeddings
    rated = {n: gen.rate(gen.generate(captions, seeds, best_of=n), emb) for n in (1, 2, 8)}
    assert np.all(rated[2] >= rated[1]) and np.all(rated[8] >= rated[2])
    assert rated[8].mean() > rated[1].mean()


def test_generate_and_report_grid_record_best_of_and_rebuild_exactly(run, gen, tmp_path, capsys):
    run_dir, data = run
    out = tmp_path / "inference"
    assert generate.main(["--checkpoint", str(run_dir), "--test-captions", str(data / "test_captions.csv"),
                          "--out", str(out), "--best-of", "3"]) == 0
    record = json.loads((out / "generation.json").read_text())
    assert record["best_of"] == 3 and record["truncation"] == 1.0 and record["mode"] == "competition"
    assert "best of 3" in capsys.readouterr().out
    assert generate.main(["--checkpoint", str(run_dir), "--test-captions", str(data / "test_captions.csv"),
                          "--out", str(tmp_path / "bad"), "--best-of", "0"]) == 1
    assert "best-of N must be a whole number" in capsys.readouterr().err and not (tmp_path / "bad").exists()

    grid_png = tmp_path / "grid.png"
    assert report_grid.main(["--checkpoint", str(run_dir), "--data", str(data), "--ids", "",
                             "--caption", CAPTIONS[0], "--caption", CAPTIONS[2], "--seeds", "0,7",
                             "--truncation", "0.8", "--best-of", "4", "--out", str(grid_png)]) == 0
    tiles = list(csv.DictReader(io.StringIO(grid_png.with_suffix(".csv").read_text())))
    assert list(tiles[0])[-2:] == ["truncation", "best_of"] and {t["best_of"] for t in tiles} == {"4"}
    assert "best of 4 by the GAN's D" in grid_png.with_suffix(".md").read_text()
    rebuilt = gen.generate([t["caption"] for t in tiles], [int(t["seed"]) for t in tiles],
                           float(tiles[0]["truncation"]), int(tiles[0]["best_of"]))
    assert np.array_equal(rebuilt, gen.grid([CAPTIONS[0], CAPTIONS[2]], [0, 7], 0.8, 4).reshape(4, 64, 64, 3))


def test_cache_keys_name_best_of_only_when_it_is_not_one():
    from gan_core.eval.evaluate import with_sampling

    key = {"seed": 0}
    assert with_sampling(key, 1.0, 1) == key  # keys written before best-of existed still match
    assert with_sampling(key, 1.0, 4) == {"seed": 0, "best_of": 4}
    assert with_sampling(key, 0.8, 4) == {"seed": 0, "truncation": 0.8, "best_of": 4}


def test_export_can_leave_the_discriminator_out_and_such_a_snapshot_refuses_n_above_one(run, tmp_path, capsys):
    run_dir, data = run
    names = [p.name for p in list_snapshots(run_dir)]
    out = tmp_path / "shipped"
    export_run(run_dir, out, names, discriminator_in=[names[-1]])
    with_d, without_d = out / "snapshots" / names[-1], out / "snapshots" / names[0]
    assert read_meta(with_d)["has_discriminator"] and not read_meta(without_d)["has_discriminator"]
    assert any(k.startswith("discriminator/") for k in storage.read_weights(with_d / "weights.npz"))
    assert not any(k.startswith("discriminator/") for k in storage.read_weights(without_d / "weights.npz"))

    plain = Sampler.load(without_d)
    assert not plain.can_rank and plain.generate(CAPTIONS, [0, 1, 2, 3]).shape == (4, 64, 64, 3)
    with pytest.raises(UserError, match="best-of-N needs a snapshot that holds its discriminator"):
        plain.generate(CAPTIONS, [0, 1, 2, 3], best_of=2)
    # a float16 D ranks like the float32 one it was exported from, up to rounding of near-ties
    ranked = Sampler.load(with_d)
    original = Sampler.load(run_dir / "snapshots" / names[-1])
    emb = original.encode(CAPTIONS).embeddings
    images = original.generate(CAPTIONS, [0, 1, 2, 3])
    np.testing.assert_allclose(ranked.rate(images, emb), original.rate(images, emb), atol=0.05)

    assert generate.main(["--checkpoint", str(without_d), "--captions-file", str(_captions(tmp_path)),
                          "--out", str(tmp_path / "refused"), "--best-of", "2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "best-of-N needs a snapshot that holds its discriminator" in err[0]
    assert export_script.main(["--run-dir", str(run_dir), "--out", str(tmp_path / "none"),
                               "--discriminator-in", "none"]) == 0
    assert not any(read_meta(p)["has_discriminator"] for p in list_snapshots(tmp_path / "none"))
    assert export_script.main(["--run-dir", str(run_dir), "--out", str(tmp_path / "stray"),
                               "--snapshots", names[0], "--discriminator-in", names[-1]]) == 1
    assert "not exported" in capsys.readouterr().err and not (tmp_path / "stray").exists()


def _captions(tmp_path):
    path = tmp_path / "captions.txt"
    path.write_text("\n".join(CAPTIONS) + "\n")
    return path

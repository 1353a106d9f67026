"""gan_core.storage: the one io for weights (float16 rule, atomic writes, checked assignment) and caches."""

import os

import numpy as np
import pytest

from gan_core import UserError, atomic, storage


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


def small_model(keras, seed: int = 0):
    """An embedding (rank 2), a dense kernel (rank 2) and bias (rank 1), a layer norm's vectors."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((3,), dtype="int32"), keras.layers.Embedding(10, 4),
                             keras.layers.Dense(5), keras.layers.LayerNormalization()])


def test_float16_rule_keeps_vectors_in_float32():
    matrix, vector, scalar = np.ones((2, 3)), np.ones(3), np.float64(2.0)
    assert storage.to_stored(matrix, float16=True).dtype == np.float16
    assert storage.to_stored(np.ones((2, 3, 4, 5)), float16=True).dtype == np.float16
    assert storage.to_stored(vector, float16=True).dtype == np.float32
    assert storage.to_stored(scalar, float16=True).dtype == np.float32
    assert storage.to_stored(matrix).dtype == np.float32  # without the flag every float is float32
    counts = np.arange(6).reshape(2, 3)
    assert storage.to_stored(counts, float16=True).dtype == counts.dtype  # not floating: untouched


@pytest.mark.parametrize("float16", [False, True])
def test_weights_round_trip_under_the_float16_rule(keras, tmp_path, float16):
    model = small_model(keras)
    arrays = storage.weight_arrays(model, "net", float16)
    ranks = {key: value.ndim for key, value in arrays.items()}
    assert sorted(ranks.values()) == [1, 1, 1, 2, 2]  # bias, gamma, beta; embeddings, kernel
    for key, value in arrays.items():
        assert key.startswith("net/") and key.split("/", 1)[1][:5] in {f"{i:04d}:" for i in range(5)}
        expected = np.float16 if float16 and value.ndim >= 2 else np.float32
        assert value.dtype == expected, key

    path = storage.save_weights(tmp_path / "w.npz", arrays)
    stored = storage.read_weights(path)
    assert stored.keys() == arrays.keys()
    for key in arrays:
        assert stored[key].dtype == arrays[key].dtype
        np.testing.assert_array_equal(stored[key], arrays[key])

    other = small_model(keras, seed=1)
    assert not all(np.array_equal(a, b) for a, b in zip(model.get_weights(), other.get_weights()))
    storage.assign_weights(other, stored, "net")
    for original, loaded, var in zip(model.get_weights(), other.get_weights(), other.weights):
        assert loaded.dtype == np.dtype(var.dtype) == np.float32  # cast back to the variable's dtype
        if float16 and original.ndim >= 2:
            np.testing.assert_array_equal(loaded, original.astype(np.float16).astype(np.float32))
        else:
            np.testing.assert_array_equal(loaded, original)


def test_groups_are_read_apart_and_ungrouped_files_read_as_group_empty(keras, tmp_path):
    model = small_model(keras)
    merged = {**storage.weight_arrays(model, "a"), **storage.weight_arrays(model, "b")}
    storage.save_weights(tmp_path / "two.npz", merged)
    only_b = storage.read_weights(tmp_path / "two.npz", "b")
    assert len(only_b) == 5 and all(key.startswith("b/") for key in only_b)
    plain = storage.weight_arrays(model)  # "<index>:<path>", as files written before groups existed
    assert all(key[:4].isdigit() and key[4] == ":" for key in plain)
    storage.save_weights(tmp_path / "plain.npz", plain)
    assert storage.read_weights(tmp_path / "plain.npz", "").keys() == plain.keys()
    assert storage.read_weights(tmp_path / "plain.npz", "a") == {}


def test_a_write_that_fails_midway_leaves_no_file_and_keeps_the_old_one(tmp_path):
    class Unwritable:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("disk vanished")

    target = tmp_path / "w.npz"
    good = {"g/0000:kernel": np.ones((2, 2), np.float32)}
    with pytest.raises(RuntimeError, match="disk vanished"):  # the first array is in the zip already
        storage.save_weights(target, {**good, "g/0001:bias": Unwritable()})
    assert list(tmp_path.iterdir()) == []  # neither the target nor a temporary file

    storage.save_weights(target, good)
    before = target.read_bytes()
    with pytest.raises(RuntimeError):
        storage.save_weights(target, {"g/0000:kernel": np.zeros((2, 2), np.float32), "g/0001:bias": Unwritable()})
    assert target.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["w.npz"]


def test_assign_errors_are_one_line_and_assign_nothing(keras, tmp_path):
    model = small_model(keras)
    arrays = storage.weight_arrays(model, "net")
    target = small_model(keras, seed=1)
    before = [w.copy() for w in target.get_weights()]

    fewer = dict(list(arrays.items())[:-1])
    with pytest.raises(UserError) as error:
        storage.assign_weights(target, fewer, "net", source="run X")
    assert str(error.value) == "run X: 4 net weights stored, the model has 5"

    last = max(arrays)
    wrong = {**arrays, last: np.zeros(7, np.float32)}  # every array but the last one fits
    with pytest.raises(UserError) as error:
        storage.assign_weights(target, wrong, "net", source="run X")
    message = str(error.value)
    assert "\n" not in message and message == f"run X: {last} has shape (7,), the model expects (5,)"
    for old, now in zip(before, target.get_weights()):  # shapes are checked before anything is assigned
        np.testing.assert_array_equal(old, now)

    with pytest.raises(UserError, match="0 other weights stored, the model has 5"):
        storage.assign_weights(target, arrays, "other")


def test_missing_or_corrupt_weights_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="weights file not found"):
        storage.read_weights(tmp_path / "none.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="corrupt"):
        storage.read_weights(tmp_path / "bad.npz")


def test_arrays_digest_follows_values_not_files(tmp_path):
    arrays = {"g/0000:k": np.arange(6, dtype=np.float32).reshape(2, 3), "g/0001:b": np.zeros(3, np.float32)}
    digest = storage.arrays_digest(arrays)
    assert storage.arrays_digest(dict(reversed(list(arrays.items())))) == digest
    assert storage.arrays_digest({**arrays, "g/0001:b": np.ones(3, np.float32)}) != digest
    assert storage.arrays_digest({**arrays, "g/0001:b": np.zeros(3, np.float16)}) != digest  # dtype counts
    storage.save_weights(tmp_path / "a.npz", arrays)
    assert storage.arrays_digest(storage.read_weights(tmp_path / "a.npz")) == digest


KEY = {"snapshot": "abc123", "seed": 0, "references": "own:ff00", "images": 819}


def test_cache_returns_the_entry_only_under_its_own_key(tmp_path):
    result = {"score": 0.38, "n_images": 819}
    path = storage.write_cache(tmp_path, "scores_flowers", KEY, result)
    assert path == storage.cache_path(tmp_path, "scores_flowers", KEY) and path.name.startswith("scores_flowers_")
    assert storage.read_cache(tmp_path, "scores_flowers", dict(reversed(list(KEY.items())))) == result  # key order
    assert storage.read_cache(tmp_path, "scores_flowers", {**KEY, "seed": 1}) is None
    assert storage.read_cache(tmp_path, "scores_other", KEY) is None

    other = {**KEY, "snapshot": "def456"}
    storage.write_cache(tmp_path, "scores_flowers", other, {"score": 0.5})
    assert storage.read_cache(tmp_path, "scores_flowers", KEY) == result  # side by side, not overwritten
    assert storage.read_cache(tmp_path, "scores_flowers", other) == {"score": 0.5}
    assert sorted(r["score"] for _, r in storage.cached_results(tmp_path, "scores_flowers")) == [0.38, 0.5]


def test_cache_key_values_that_are_not_json_are_compared_as_text(tmp_path):
    key = {"data": tmp_path / "data", "seed": 3}
    storage.write_cache(tmp_path, "k", key, [1, 2])
    assert storage.read_cache(tmp_path, "k", key) == [1, 2]
    assert storage.read_cache(tmp_path, "k", {"data": str(tmp_path / "data"), "seed": 3}) == [1, 2]


def test_a_cache_entry_stored_under_another_key_in_the_same_file_is_not_returned(tmp_path):
    """A file is found by the key's digest, but its stored key is what decides (a collision or a
    hand-copied file never passes for another key's result)."""
    path = storage.write_cache(tmp_path, "k", KEY, {"score": 1.0})
    other = {**KEY, "seed": 5}
    os.replace(path, storage.cache_path(tmp_path, "k", other))
    assert storage.read_cache(tmp_path, "k", other) is None


def test_unreadable_cache_files_read_as_missing(tmp_path):
    path = storage.cache_path(tmp_path, "k", KEY)
    for content in ("{ not json", '["a list"]', '{"format": "other/1", "key": {}, "result": 1}'):
        path.write_text(content)
        assert storage.read_cache(tmp_path, "k", KEY) is None
    assert storage.read_cache(tmp_path / "missing", "k", KEY) is None


def test_write_cache_into_a_read_only_folder_returns_none(tmp_path, monkeypatch):
    folder = tmp_path / "shipped"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):  # root ignores the mode: fail the way the kernel would for others
            def refuse(*args, **kwargs):
                raise PermissionError(13, "Permission denied", str(folder))

            monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
        assert storage.write_cache(folder, "scores_flowers", KEY, {"score": 1.0}) is None
        assert list(folder.iterdir()) == []
        assert storage.read_cache(folder, "scores_flowers", KEY) is None
    finally:
        folder.chmod(0o755)

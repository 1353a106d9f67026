"""Reading inference folders the competition's way, and every kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gan_core import UserError
from gan_core.data.imagefolder import load_image_folder, parse_test_id


def save(path, array, **kwargs):
    Image.fromarray(array).save(path, **kwargs)
    return path


def scorer_pipeline(path):
    """The competition scorer's reading of one file, restated."""
    import tensorflow as tf

    image = tf.image.decode_image(tf.io.read_file(str(path)), channels=3, expand_animations=False)
    image = tf.image.convert_image_dtype(image, tf.float32)
    return (tf.image.resize(image, size=[64, 64]) * 255).numpy()


def test_reads_sorted_with_ids_and_scorer_pixels(tmp_path):
    rng = np.random.default_rng(0)
    png = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    save(tmp_path / "inference_20.png", png)
    save(tmp_path / "inference_3.jpg", rng.integers(0, 256, (100, 80, 3), dtype=np.uint8), quality=90)
    save(tmp_path / "b_7.JPEG", rng.integers(0, 256, (30, 50), dtype=np.uint8))  # grayscale, upsampled
    save(tmp_path / "c_9.png", rng.integers(0, 256, (70, 70, 4), dtype=np.uint8))  # RGBA: alpha dropped

    images, ids, names, problems = load_image_folder(tmp_path)
    assert names == ["b_7.JPEG", "c_9.png", "inference_20.png", "inference_3.jpg"]  # name order, not ID order
    assert ids.tolist() == [7, 9, 20, 3] and problems == []
    assert images.shape == (4, 64, 64, 3) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 255.0
    for image, name in zip(images, names):
        np.testing.assert_allclose(image, scorer_pipeline(tmp_path / name), atol=1e-4)
    np.testing.assert_allclose(images[2], png, atol=1e-3)  # 64x64 lossless: pixels unchanged


def test_bad_files_are_skipped_and_listed(tmp_path):
    save(tmp_path / "inference_1.jpg", np.full((64, 64, 3), 128, np.uint8))
    (tmp_path / "inference_2.jpg").write_bytes(b"not a jpeg at all")
    (tmp_path / "notes.txt").write_text("hello")
    save(tmp_path / "sample.jpg", np.zeros((64, 64, 3), np.uint8))
    save(tmp_path / "inference_x4.jpg", np.zeros((64, 64, 3), np.uint8))
    (tmp_path / "sub_5.jpg").mkdir()  # a folder is not a file: ignored

    images, ids, names, problems = load_image_folder(tmp_path)
    assert names == ["inference_1.jpg"] and ids.tolist() == [1]
    np.testing.assert_allclose(images[0], 128.0, atol=1.0)
    reasons = dict(problems)
    assert set(reasons) == {"inference_2.jpg", "notes.txt", "sample.jpg", "inference_x4.jpg"}
    assert reasons["inference_2.jpg"].startswith("cannot decode")
    assert reasons["notes.txt"].startswith("not an image file")
    assert "test ID" in reasons["sample.jpg"] and "test ID" in reasons["inference_x4.jpg"]


def test_folder_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(UserError, match="empty"):
        load_image_folder(tmp_path)
    (tmp_path / "inference_1.jpg").write_bytes(b"broken")
    with pytest.raises(UserError, match="no readable images"):
        load_image_folder(tmp_path)


def test_duplicate_ids_are_an_error(tmp_path):
    save(tmp_path / "a_7.jpg", np.zeros((8, 8, 3), np.uint8))
    save(tmp_path / "b_07.png", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(UserError, match="test ID 7 appears twice.*a_7.jpg and b_07.png"):
        load_image_folder(tmp_path)


def test_parse_test_id():
    assert parse_test_id("inference_6735.jpg") == 6735
    assert parse_test_id("6735.jpg") == 6735
    assert parse_test_id("a_b_12.png") == 12
    assert parse_test_id("inference_-3.jpg") is None
    assert parse_test_id("inference_12a.jpg") is None

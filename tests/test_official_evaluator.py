"""The evaluators: the official checkpoint read by name into Keras 3, the registry, InceptionV3.

The official weights are not public, so `build_random_checkpoint` saves a random-weight model of
the scorer's exact class with the legacy Keras 2 package (tf_keras), which gives the real file's
variable names; the Keras 3 loader must then reproduce that model's logits.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from gan_core import UserError
from gan_core.eval.evaluators import Evaluator, get_evaluator, predict_in_batches
from gan_core.eval.evaluators.official import OfficialEvaluator, caffe_preprocess, resolve_checkpoint


def build_random_checkpoint(directory: Path, saves: int = 2, seed: int = 0):
    """Save the scorer's model (random weights) as `directory/ckpt-1..saves`; return the tf_keras model."""
    import tensorflow as tf
    import tf_keras

    tf_keras.utils.set_random_seed(seed)

    class VGG16(tf_keras.Model):  # as in the competition's inception_score.py
        def __init__(self):
            super().__init__()
            vgg = tf_keras.applications.VGG16(include_top=False, weights=None)
            self.vgg = tf_keras.Model([vgg.input], [vgg.get_layer("block5_pool").output])
            self.vgg.trainable = False
            self.flatten = tf_keras.layers.Flatten()
            self.d1 = tf_keras.layers.Dense(4096, activation="relu")
            self.d2 = tf_keras.layers.Dense(2048, activation="relu")
            self.d3 = tf_keras.layers.Dense(102)

        def call(self, inputs):
            features = self.d2(self.d1(self.flatten(self.vgg(inputs))))
            return self.d3(features), features

    model = VGG16()
    model(np.zeros((1, 64, 64, 3), np.float32))
    checkpoint = tf.train.Checkpoint(vgg16=model)
    for _ in range(saves):
        checkpoint.save(str(directory / "ckpt"))
    return model


def random_images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (count, 64, 64, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    directory = tmp_path_factory.mktemp("official")
    reference_model = build_random_checkpoint(directory)
    return directory, reference_model, OfficialEvaluator(directory, batch_size=3)


def save_tree(prefix: Path, variables: dict[str, np.ndarray]) -> None:
    """Save `variables` (checkpoint names, as listed by tf.train.list_variables) as a checkpoint."""
    import tensorflow as tf

    root = tf.Module()
    for name, value in variables.items():
        parts = name.removesuffix("/.ATTRIBUTES/VARIABLE_VALUE").split("/")
        node = root
        for part in parts[:-1]:
            if not hasattr(node, part):
                setattr(node, part, tf.Module())
            node = getattr(node, part)
        setattr(node, parts[-1], tf.Variable(value))
    tf.train.Checkpoint(**{k: v for k, v in vars(root).items() if isinstance(v, tf.Module)}).write(str(prefix))


def test_caffe_preprocess_matches_keras():
    import keras

    images = random_images(2)
    np.testing.assert_allclose(caffe_preprocess(images),
                               keras.applications.vgg19.preprocess_input(images.copy()), atol=1e-4)


def test_loader_reproduces_the_keras2_model(official):
    _, reference_model, evaluator = official
    images = random_images(4)
    expected_logits, expected_features = (t.numpy() for t in reference_model(caffe_preprocess(images)))
    logits, features = evaluator.predict(images)  # batch 3 over 4 images: a partial last batch
    assert logits.shape == (4, 102) and features.shape == (4, 2048) and logits.dtype == np.float32
    scale = np.abs(expected_logits).max()
    assert scale > 0
    np.testing.assert_allclose(logits, expected_logits, rtol=1e-3, atol=1e-3 * scale)
    np.testing.assert_allclose(features, expected_features, rtol=1e-3, atol=1e-3 * np.abs(expected_features).max())
    assert isinstance(evaluator, Evaluator) and evaluator.num_classes == 102


def test_batch_size_does_not_change_results(official):
    _, _, evaluator = official
    images = random_images(5, seed=1)
    whole = evaluator.predict(images)
    for batch in (1, 2, 5, 64):
        for ours, reference in zip(predict_in_batches(evaluator.predict, images, batch), whole):
            np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-4 * np.abs(reference).max())


def test_checkpoint_resolution(official, tmp_path):
    directory, _, _ = official
    assert resolve_checkpoint(directory) == str(directory / "ckpt-2")
    assert resolve_checkpoint(directory / "ckpt-1") == str(directory / "ckpt-1")
    for file in directory.glob("ckpt-1.*"):  # a folder without the `checkpoint` state file
        (tmp_path / file.name).symlink_to(file)
    assert resolve_checkpoint(tmp_path) == str(tmp_path / "ckpt-1")
    with pytest.raises(UserError, match="not found"):
        resolve_checkpoint(directory / "ckpt-9")
    with pytest.raises(UserError, match="no TensorFlow checkpoint"):
        resolve_checkpoint(tmp_path / "..")


def test_missing_and_misshapen_variables_are_named(official, tmp_path):
    import tensorflow as tf

    directory, _, _ = official
    reader = tf.train.load_checkpoint(str(directory / "ckpt-2"))
    variables = {name: reader.get_tensor(name) for name, _ in tf.train.list_variables(str(directory / "ckpt-2"))
                 if name.startswith("vgg16/")}
    bias = "vgg16/d2/bias/.ATTRIBUTES/VARIABLE_VALUE"
    save_tree(tmp_path / "missing", {k: v for k, v in variables.items() if k != bias})
    with pytest.raises(UserError, match=f"has no variable {bias}"):
        OfficialEvaluator(tmp_path / "missing")
    kernel = "vgg16/d3/kernel/.ATTRIBUTES/VARIABLE_VALUE"
    save_tree(tmp_path / "misshapen", {**variables, kernel: np.zeros((2048, 10), np.float32)})
    with pytest.raises(UserError, match=rf"{kernel} has shape \[2048, 10\], expected \[2048, 102\]"):
        OfficialEvaluator(tmp_path / "misshapen")


def test_registry_official_with_references(official, tmp_path):
    directory, _, _ = official
    good = tmp_path / "eval_metrics.pkl"
    good.write_bytes(pickle.dumps({3: np.ones(102, np.float32), 4: np.zeros(102)}))
    evaluator = get_evaluator("official", checkpoint=directory, references=good)
    assert evaluator.name == "official" and set(evaluator.references) == {3, 4}
    assert evaluator.references[3].dtype == np.float32
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(pickle.dumps({3: np.ones(1000)}))
    with pytest.raises(UserError, match="1000 values, the evaluator has 102 classes"):
        get_evaluator("official", checkpoint=directory, references=bad)


def test_registry_user_errors():
    with pytest.raises(UserError, match="unknown evaluator 'vgg'"):
        get_evaluator("vgg")
    with pytest.raises(UserError, match="does not use weights"):
        get_evaluator("official", checkpoint="x", weights="y")
    with pytest.raises(UserError, match="needs its checkpoint"):
        get_evaluator("official")


def test_registry_flowers_missing_weights_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="train_evaluator.py"):
        get_evaluator("flowers", checkpoint=str(tmp_path / "no_evaluator_here"))


# ---- InceptionV3 ----------------------------------------------------------------------------


def test_inception_without_weights_says_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("GAN_INCEPTION_WEIGHTS", raising=False)
    with pytest.raises(UserError) as error:
        get_evaluator("inception")
    message = str(error.value)
    assert "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/" \
           "inception_v3_weights_tf_dim_ordering_tf_kernels.h5" in message
    assert str(tmp_path / "keras" / "models" / "inception_v3_weights_tf_dim_ordering_tf_kernels.h5") in message
    assert "--inception-weights" in message and "GAN_INCEPTION_WEIGHTS" in message
    monkeypatch.setenv("GAN_INCEPTION_WEIGHTS", str(tmp_path / "nowhere.h5"))
    with pytest.raises(UserError, match="weights file not found: .*nowhere.h5 \\(from GAN_INCEPTION_WEIGHTS\\)"):
        get_evaluator("inception")
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not hdf5")
    with pytest.raises(UserError, match="cannot load InceptionV3 weights"):
        get_evaluator("inception", weights=broken)


def test_inception_model_untrained():
    from gan_core.eval.evaluators.inception import InceptionEvaluator

    evaluator = InceptionEvaluator(untrained=True, batch_size=2)
    images = random_images(3, seed=2)
    logits, features = evaluator.predict(images)
    assert logits.shape == (3, 1000) and features.shape == (3, 2048)
    assert np.isfinite(logits).all() and (features >= 0).all()
    assert not np.allclose(logits.sum(axis=1), 1.0)  # logits, not softmax probabilities
    single, _ = predict_in_batches(evaluator.predict, images, 1)
    np.testing.assert_allclose(single, logits, rtol=1e-4, atol=1e-4 * np.abs(logits).max())

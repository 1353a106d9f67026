"""ImageNet InceptionV3 as an evaluator (Szegedy et al. 2016; keras.applications.InceptionV3).

Images (float [N, 64, 64, 3] in [0, 255]) are upsampled bilinearly to 299x299 and normalised
with keras.applications.inception_v3.preprocess_input (to [-1, 1]). Logits are the 1000 ImageNet
class scores before softmax (built with classifier_activation=None); features are the 2048-d
global average pool, the layer FID uses. Note this is Keras' port, not the TF1 graph
(pt_inception-2015-12-05) that TTUR / pytorch-fid use, so FIDs are not comparable with papers.

There is no download here: the weights file comes from `weights=PATH` (--inception-weights),
else the environment variable GAN_INCEPTION_WEIGHTS, else the Keras cache
($KERAS_HOME or ~/.keras)/models/inception_v3_weights_tf_dim_ordering_tf_kernels.h5.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gan_core import UserError
from gan_core.eval.evaluators import DEFAULT_BATCH, check_images, predict_in_batches

WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
               "inception_v3_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_ENV = "GAN_INCEPTION_WEIGHTS"
INPUT_SIZE = 299
NUM_CLASSES = 1000
FEATURES = 2048


def keras_cache_file() -> Path:
    """Where Keras caches the weights: $KERAS_HOME/models, else ~/.keras/models (as Keras decides)."""
    home = os.environ.get("KERAS_HOME")
    if home is None:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return Path(home) / "models" / WEIGHTS_FILE


def find_weights(weights: str | Path | None = None) -> Path:
    """The InceptionV3 weights file: explicit path, then $GAN_INCEPTION_WEIGHTS, then the Keras cache."""
    for source, value in (("--inception-weights", weights), (WEIGHTS_ENV, os.environ.get(WEIGHTS_ENV))):
        if value:
            if not Path(value).is_file():
                raise UserError(f"InceptionV3 weights file not found: {value} (from {source})")
            return Path(value)
    cached = keras_cache_file()
    if cached.is_file():
        return cached
    raise UserError(
        f"no InceptionV3 weights and no internet download here: download {WEIGHTS_URL} "
        f"and put it at {cached}, or pass --inception-weights PATH, or set {WEIGHTS_ENV}=PATH"
    )


class InceptionEvaluator:
    """ImageNet InceptionV3: 1000 logits, 2048-d pool features; no reference logits of its own."""

    name = "inception"
    num_classes = NUM_CLASSES

    def __init__(
        self,
        weights: str | Path | None = None,  # .h5 weights file; None: $GAN_INCEPTION_WEIGHTS or Keras cache
        batch_size: int = DEFAULT_BATCH,  # inference batch; results do not depend on it
        untrained: bool = False,  # tests only: random weights, no file needed
    ):
        path = None if untrained else find_weights(weights)  # before the slow imports: fail fast
        import keras
        import tensorflow as tf

        base = keras.applications.InceptionV3(include_top=True, weights=None, classifier_activation=None)
        if path is not None:
            try:
                base.load_weights(str(path))
            except Exception as exc:  # noqa: BLE001  h5py and Keras raise many kinds for a bad file
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise UserError(f"cannot load InceptionV3 weights from {path}: {reason}") from None
        self.model = keras.Model(base.input, [base.output, base.get_layer("avg_pool").output])
        self.batch_size = batch_size
        self.references = None
        self._forward = tf.function(self._call, reduce_retracing=True)

    def _call(self, images):
        import keras
        import tensorflow as tf

        x = tf.image.resize(images, [INPUT_SIZE, INPUT_SIZE], method="bilinear")
        x = keras.applications.inception_v3.preprocess_input(x)
        return self.model(x, training=False)

    def _predict_batch(self, images: np.ndarray):
        logits, features = self._forward(images)
        return logits.numpy(), features.numpy()

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return predict_in_batches(self._predict_batch, check_images(images), self.batch_size)

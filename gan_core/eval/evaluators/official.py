"""The competition's own flower classifier, read from its TensorFlow checkpoint into Keras 3.

The scorer's model is a subclassed Keras 2 model saved with `tf.train.Checkpoint(vgg16=model)`:
`vgg` (VGG16 without top, weights=None, output at block5_pool), `flatten`, `d1` (Dense 4096
ReLU), `d2` (Dense 2048 ReLU), `d3` (Dense 102 logits); it was restored from
`checkpoints_transfer_fine_tune/ckpt-5`. Keras 3 cannot restore that object graph, so the
variables are read by name and assigned into a Keras 3 model of the same architecture; a
missing or misshapen variable is a UserError naming it. Variable names, as listed by
tf.train.list_variables on a checkpoint saved that way with tf_keras:

    vgg16/vgg/layer_with_weights-{0..12}/{kernel,bias}/.ATTRIBUTES/VARIABLE_VALUE   (13 convs)
    vgg16/{d1,d2,d3}/{kernel,bias}/.ATTRIBUTES/VARIABLE_VALUE

Inputs are normalised as the scorer does: keras.applications.vgg19.preprocess_input (caffe
mode: RGB -> BGR, minus the ImageNet mean) on images in [0, 255].
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from gan_core import UserError
from gan_core.eval.evaluators import DEFAULT_BATCH, check_images, predict_in_batches

NUM_CLASSES = 102
FEATURES = 2048  # d2 activations
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)
_VARIABLE = "vgg16/{}/.ATTRIBUTES/VARIABLE_VALUE"


def caffe_preprocess(images: np.ndarray) -> np.ndarray:
    """RGB [0, 255] -> BGR minus the ImageNet mean, as keras.applications.vgg19.preprocess_input.

    Written out because Keras' version modifies a numpy input in place.
    """
    return images[..., ::-1] - CAFFE_MEAN_BGR


def resolve_checkpoint(path: str | Path) -> str:
    """A checkpoint prefix from a folder (its latest checkpoint) or a `ckpt-N` prefix."""
    import tensorflow as tf

    path = Path(path)
    if path.is_dir():
        prefix = tf.train.latest_checkpoint(str(path))
        if prefix is None:  # no `checkpoint` state file: take the highest ckpt-N.index
            def number(index: Path) -> int:
                match = re.search(r"-(\d+)$", index.stem)
                return int(match.group(1)) if match else -1

            indexes = sorted(path.glob("*.index"), key=number)
            if not indexes:
                raise UserError(f"no TensorFlow checkpoint in {path} (expected ckpt-N.index files)")
            prefix = str(indexes[-1].with_suffix(""))
        return prefix
    if Path(f"{path}.index").is_file():
        return str(path)
    raise UserError(f"official checkpoint not found: {path} (give its folder or a ckpt-N prefix)")


def _expected_shapes() -> dict[str, tuple[int, ...]]:
    """Checkpoint variable name -> shape for the official architecture, in layer order."""
    convs = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256),
             (256, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512)]
    shapes = {}
    for i, (cin, cout) in enumerate(convs):
        shapes[_VARIABLE.format(f"vgg/layer_with_weights-{i}/kernel")] = (3, 3, cin, cout)
        shapes[_VARIABLE.format(f"vgg/layer_with_weights-{i}/bias")] = (cout,)
    for layer, (fan_in, fan_out) in {"d1": (2 * 2 * 512, 4096), "d2": (4096, FEATURES),
                                     "d3": (FEATURES, NUM_CLASSES)}.items():
        shapes[_VARIABLE.format(f"{layer}/kernel")] = (fan_in, fan_out)
        shapes[_VARIABLE.format(f"{layer}/bias")] = (fan_out,)
    return shapes


def read_official_variables(prefix: str) -> dict[str, np.ndarray]:
    """Every variable the official architecture needs, by checkpoint name, shapes checked."""
    import tensorflow as tf

    try:
        reader = tf.train.load_checkpoint(prefix)
        available = reader.get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError) as exc:
        raise UserError(f"cannot read checkpoint {prefix}: {str(exc).splitlines()[0]}") from None
    values = {}
    for name, shape in _expected_shapes().items():
        if name not in available:
            raise UserError(f"checkpoint {prefix} has no variable {name}: not the official classifier "
                            f"saved with tf.train.Checkpoint(vgg16=model)?")
        if tuple(available[name]) != shape:
            raise UserError(f"checkpoint {prefix}: variable {name} has shape {list(available[name])}, "
                            f"expected {list(shape)}")
        values[name] = reader.get_tensor(name)
    return values


def build_official_model():
    """Keras 3 model of the official architecture: images -> (logits [N, 102], d2 features [N, 2048])."""
    import keras

    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(64, 64, 3))
    x = keras.layers.Flatten(name="flatten")(vgg.output)  # [N, 2 * 2 * 512]
    x = keras.layers.Dense(4096, activation="relu", name="d1")(x)
    features = keras.layers.Dense(FEATURES, activation="relu", name="d2")(x)
    logits = keras.layers.Dense(NUM_CLASSES, name="d3")(features)
    return keras.Model(vgg.input, [logits, features], name="official_flower_classifier")


def load_official_model(path: str | Path):
    """The official classifier with its weights from the checkpoint at `path` (folder or prefix)."""
    values = read_official_variables(resolve_checkpoint(path))
    model = build_official_model()
    convs = [layer for layer in model.layers if layer.name.startswith("block") and layer.weights]
    targets = [(f"vgg/layer_with_weights-{i}", layer) for i, layer in enumerate(convs)]
    targets += [(name, model.get_layer(name)) for name in ("d1", "d2", "d3")]
    for prefix, layer in targets:
        layer.set_weights([values[_VARIABLE.format(f"{prefix}/kernel")], values[_VARIABLE.format(f"{prefix}/bias")]])
    return model


class OfficialEvaluator:
    """The competition's VGG16 flower classifier; references come from eval_metrics.pkl (registry)."""

    name = "official"
    num_classes = NUM_CLASSES

    def __init__(
        self,
        checkpoint: str | Path | None,  # checkpoint folder (latest checkpoint) or a ckpt-N prefix
        batch_size: int = DEFAULT_BATCH,  # inference batch; results do not depend on it
    ):
        import tensorflow as tf

        if checkpoint is None:
            raise UserError("the official evaluator needs its checkpoint (--checkpoint DIR or ckpt-N prefix)")
        self.model = load_official_model(checkpoint)
        self.batch_size = batch_size
        self.references = None
        self._forward = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True)

    def _predict_batch(self, images: np.ndarray):
        logits, features = self._forward(caffe_preprocess(images))
        return logits.numpy(), features.numpy()

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return predict_in_batches(self._predict_batch, check_images(images), self.batch_size)

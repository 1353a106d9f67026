"""Our own flower classifier: the default offline evaluator (102 Oxford flower classes at 64x64).

The official competition classifier (a fine-tuned VGG16) is not public, so the project trains a
compact CNN from scratch on the 7370 training images, with the flower class labels of
`load_class_ids`. It is an evaluation model only: nothing here is used to train or guide the GAN.

Architecture: a VGG-style stack with BatchNorm (3x3 convs, 32 -> 64 -> 128 -> 256 channels from
64x64 down to 4x4), global average pooling (the 256-d features used for FID), dropout and a
linear layer (the 102 logits). About 1.7M parameters. Training: random crops of 80-100% of the
stored 76px image resized to 64 (so the full image at 64 px, as scored, is inside the training
distribution) plus horizontal flips, AdamW with a warm-up + cosine schedule, label smoothing.

Saved model folder (written as a whole, atomically):
  weights.npz      model variables (kernels float16, the rest float32), keyed by index and path
  config.json      the FlowersConfig it was trained with (field -> value)
  references.npz   test IDs int64 [T] and their logits float32 [T, 102] on the real test images
  metrics.json     test top-1 / top-5, parameters, seconds, per-epoch history, agreement with
                   the official argmax when its logits were given
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_core import REPO_ROOT, UserError, atomic, storage
from gan_core.eval.evaluators import check_images, predict_in_batches

NUM_CLASSES = 102
DEFAULT_PATH = REPO_ROOT / "checkpoints" / "evaluator" / "flowers"
TRAIN_HINT = "python scripts/train_evaluator.py --data data/oxford102 --out checkpoints/evaluator/flowers"
PREDICT_BATCH = 256  # inference batch; results do not depend on it


@dataclass(frozen=True)
class FlowersConfig:
    width: int = 32  # channels of the first stage; stages use width * (1, 2, 4, 8)
    epochs: int = 24  # passes over the training images
    batch_size: int = 64  # training batch
    lr: float = 2e-3  # peak AdamW learning rate (after warm-up, then cosine decay to 0)
    warmup_epochs: int = 1  # linear warm-up length
    weight_decay: float = 5e-4  # AdamW decoupled weight decay
    label_smoothing: float = 0.1  # cross-entropy label smoothing
    dropout: float = 0.3  # dropout before the classifier layer
    min_crop: float = 0.8  # smallest random crop side, as a share of the stored image side
    seed: int = 0  # weight initialisation, batch order and augmentation


def build_classifier(config: FlowersConfig, num_classes: int = NUM_CLASSES):
    """images float32 [B, 64, 64, 3] in [0, 255] -> (logits [B, C], features [B, 8 * width])."""
    import keras
    from keras import layers

    def conv(x, channels):
        x = layers.Conv2D(channels, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        return layers.ReLU()(x)

    w = config.width
    image = keras.Input((64, 64, 3), name="image")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(image)
    x = conv(x, w)  # 64x64
    x = layers.MaxPooling2D()(x)
    for channels in (2 * w, 4 * w, 8 * w):  # 32x32, 16x16, 8x8
        x = conv(conv(x, channels), channels)
        x = layers.MaxPooling2D()(x)
    x = conv(x, 8 * w)  # 4x4
    features = layers.GlobalAveragePooling2D(name="features")(x)
    x = layers.Dropout(config.dropout, seed=config.seed)(features)
    logits = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(image, [logits, features], name="flowers_classifier")


def _augment(images_76, seeds, min_crop: float):
    """uint8 [B, 76, 76, 3] -> float32 [B, 64, 64, 3] in [0, 255]: random crop, resize, flip."""
    import tensorflow as tf

    batch = tf.shape(images_76)[0]
    side = tf.random.stateless_uniform([batch], seeds[0], min_crop, 1.0)
    y0 = tf.random.stateless_uniform([batch], seeds[1]) * (1.0 - side)
    x0 = tf.random.stateless_uniform([batch], seeds[2]) * (1.0 - side)
    flip = tf.random.stateless_uniform([batch], seeds[3]) < 0.5
    x1 = x0 + side
    boxes = tf.stack([y0, tf.where(flip, x1, x0), y0 + side, tf.where(flip, x0, x1)], axis=1)  # x1 < x0 flips
    return tf.image.crop_and_resize(tf.cast(images_76, tf.float32), boxes, tf.range(batch), [64, 64])


def _load_arrays_into(model, arrays: dict[str, np.ndarray], source: str) -> None:
    try:
        storage.assign_weights(model, arrays, source=source)
    except UserError as exc:
        raise UserError(f"{exc}; retrain it: {TRAIN_HINT}") from None


def topk_accuracy(logits: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Share of rows whose label (0-based) is among the k largest logits."""
    top = np.argsort(-np.asarray(logits), axis=1)[:, :k]
    return float(np.mean((top == np.asarray(labels)[:, None]).any(axis=1)))


def train_flowers_evaluator(data_dir, out_dir, config: FlowersConfig = FlowersConfig(), log=print,
                            official_references=None) -> dict:
    """Train the classifier on the training split, write the model folder `out_dir`, return metrics.

    metrics: test_top1, test_top5 (on the real test images, after the float16 round trip of the
    saved weights), params, seconds, history; official_agreement_top1 when `official_references`
    (eval_metrics.pkl, a pickle: trusted files only) covers the data's test IDs.
    """
    from gan_core.data.dataset import PreparedDataset, load_class_ids

    dataset = PreparedDataset(data_dir)  # before the slow imports: a user error fails fast
    if 76 not in dataset.sizes:
        raise UserError(f"the flowers evaluator trains on 76px images; prepare {data_dir} with sizes 64 and 76")
    official = None
    if official_references is not None:
        from gan_core.data.competition import load_eval_metrics

        official = load_eval_metrics(official_references)
    labels = load_class_ids(dataset.root) - 1  # 0-based
    train_rows, test_rows = dataset.train_rows, dataset.test_rows
    if len(train_rows) < config.batch_size:
        raise UserError(f"{len(train_rows)} training images, fewer than one batch of {config.batch_size}")

    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)  # weight initialisation only; batches and crops are seeded below
    model = build_classifier(config)
    images_76 = tf.constant(np.asarray(dataset.images(76))[train_rows])
    train_labels = tf.constant(labels[train_rows].astype(np.int32))
    test_images = np.asarray(dataset.images(64))[test_rows].astype(np.float32)
    steps_per_epoch = len(train_rows) // config.batch_size
    total = steps_per_epoch * config.epochs
    warmup = max(1, steps_per_epoch * config.warmup_epochs)
    schedule = keras.optimizers.schedules.CosineDecay(0.0, total - warmup, warmup_target=config.lr,
                                                      warmup_steps=warmup) if total > warmup else config.lr
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay)
    variables = model.trainable_variables

    @tf.function
    def step(rows, seeds):
        x = _augment(tf.gather(images_76, rows), seeds, config.min_crop)
        y = tf.one_hot(tf.gather(train_labels, rows), NUM_CLASSES)
        with tf.GradientTape() as tape:
            logits, _ = model(x, training=True)
            loss = tf.reduce_mean(keras.losses.categorical_crossentropy(
                y, logits, from_logits=True, label_smoothing=config.label_smoothing))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    t0 = time.perf_counter()
    history = []
    for epoch in range(config.epochs):
        rng = np.random.default_rng([config.seed, epoch])
        order = rng.permutation(len(train_rows))[:steps_per_epoch * config.batch_size].reshape(steps_per_epoch, -1)
        seeds = rng.integers(0, 2**31 - 1, size=(steps_per_epoch, 4, 2))
        losses = [float(step(tf.constant(rows), tf.constant(s))) for rows, s in zip(order, seeds)]
        logits, _ = predict_in_batches(lambda x: [t.numpy() for t in forward(x)], test_images, PREDICT_BATCH)
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)),
                        "test_top1": topk_accuracy(logits, labels[test_rows], 1),
                        "seconds": round(time.perf_counter() - t0, 1)})
        log(f"epoch {epoch + 1}/{config.epochs}: loss {history[-1]['loss']:.3f}, "
            f"test top-1 {history[-1]['test_top1']:.3f} ({history[-1]['seconds']:.0f} s)")
    seconds = time.perf_counter() - t0

    arrays = storage.weight_arrays(model, float16=True)
    _load_arrays_into(model, arrays, "trained weights")  # score what is saved: the float16 kernels
    logits, _ = predict_in_batches(lambda x: [t.numpy() for t in forward(x)], test_images, PREDICT_BATCH)
    test_ids = dataset.image_table.loc[test_rows, "test_id"].to_numpy().astype(np.int64)
    metrics = {
        "test_top1": topk_accuracy(logits, labels[test_rows], 1),
        "test_top5": topk_accuracy(logits, labels[test_rows], 5),
        "test_images": int(len(test_rows)),
        "train_images": int(len(train_rows)),
        "params": int(model.count_params()),
        "seconds": round(seconds, 1),
        "history": history,
    }
    if official is not None:
        common = [i for i, t in enumerate(test_ids) if int(t) in official]
        if common:
            ours = np.argmax(logits[common], axis=1)
            theirs = np.array([np.argmax(official[int(test_ids[i])]) for i in common])
            metrics["official_agreement_top1"] = float(np.mean(ours == theirs))
            metrics["official_agreement_images"] = len(common)
        else:
            log("none of the test IDs is in the official references: no agreement computed")
    with atomic.atomic_dir(out_dir) as tmp:
        storage.save_weights(tmp / "weights.npz", arrays)
        with atomic.atomic_path(tmp / "references.npz") as path:
            np.savez(path, test_ids=test_ids, logits=logits.astype(np.float32))
        atomic.write_json(tmp / "config.json", dataclasses.asdict(config))
        atomic.write_json(tmp / "metrics.json", metrics)
    log(f"test top-1 {metrics['test_top1']:.3f}, top-5 {metrics['test_top5']:.3f}, "
        f"{metrics['params']:,} parameters, {seconds:.0f} s -> {out_dir}")
    return metrics


class FlowersEvaluator:
    """A trained flowers classifier with its reference logits; see the module docstring."""

    name = "flowers"
    num_classes = NUM_CLASSES

    def __init__(self, path: str | Path):
        import tensorflow as tf

        self.path = Path(path)
        hint = f"train it with: {TRAIN_HINT}"
        weights_file = self.path / "weights.npz"
        if not weights_file.is_file():
            raise UserError(f"no flowers evaluator at {self.path} (weights.npz missing); {hint}")
        try:
            self.config = FlowersConfig(**json.loads((self.path / "config.json").read_text()))
            arrays = storage.read_weights(weights_file)
            with np.load(self.path / "references.npz") as npz:
                ids, logits = npz["test_ids"], npz["logits"]
        except (OSError, ValueError, TypeError, KeyError, EOFError) as exc:
            raise UserError(f"flowers evaluator at {self.path} is incomplete or corrupt ({exc}); {hint}") from None
        if logits.shape != (len(ids), NUM_CLASSES):
            raise UserError(f"flowers evaluator at {self.path}: references have shape {logits.shape}; {hint}")
        self.identity = storage.file_identity(weights_file)  # changes whenever the weights do
        self.references_identity = f"own:{self.identity}"
        self.model = build_classifier(self.config)
        _load_arrays_into(self.model, arrays, str(weights_file))
        self.references = {int(i): row.astype(np.float32) for i, row in zip(ids, logits)}
        self.batch_size = PREDICT_BATCH
        self._forward = tf.function(lambda x: self.model(x, training=False),
                                    input_signature=[tf.TensorSpec([None, 64, 64, 3], tf.float32)])

    def _predict_batch(self, images: np.ndarray):
        logits, features = self._forward(images)
        return logits.numpy(), features.numpy()

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float32 [N, 64, 64, 3] in [0, 255] -> (logits float32 [N, 102], features float32 [N, 8 * width])."""
        return predict_in_batches(self._predict_batch, check_images(images), self.batch_size)


def load_flowers_evaluator(path: str | Path | None = None) -> FlowersEvaluator:
    """The trained flowers evaluator at `path` (default checkpoints/evaluator/flowers in the repo)."""
    return FlowersEvaluator(DEFAULT_PATH if path is None else path)

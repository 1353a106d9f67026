"""The evaluation's text-image alignment model: caption cosine and R-precision of generated images.

A separate instance of the contrastive image-text model (gan_core.train.text_pretrain): its own text
encoder, image encoder, vocabulary and seed, trained on the training (image, caption) pairs only,
never shared with the GAN, and without class labels. The GAN's own text encoder is not used to
judge the GAN, as it would reward images that fool the encoder it was trained against.

Saved model folder (written as a whole, atomically):
  weights.npz   text encoder + image encoder variables, keyed by model, index and path
  config.json   the AlignmentConfig it was trained with
  vocab.json    its vocabulary (the training data's)
  metrics.json  test image -> caption recall@1, R-precision of the real test images with their
                test captions, caption cosine, loss per epoch, seconds
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from gan_core import REPO_ROOT, UserError, atomic, storage
from gan_core.config import TextEncoderConfig
from gan_core.data.text import Vocabulary

DEFAULT_PATH = REPO_ROOT / "checkpoints" / "evaluator" / "alignment"
TRAIN_HINT = "python scripts/train_alignment.py --data data/oxford102 --out checkpoints/evaluator/alignment"
BATCH = 256  # inference batch; results do not depend on it


@dataclass(frozen=True)
class AlignmentConfig:
    embed_dim: int = 128  # word embedding size
    hidden: int = 128  # GRU units per direction; embeddings have 2 * hidden dims
    image_width: int = 32  # width of the from-scratch image encoder
    epochs: int = 15  # contrastive training epochs
    batch_size: int = 128  # contrastive batch: its other pairs are the negatives
    lr: float = 2e-3  # Adam learning rate
    temperature: float = 0.1  # InfoNCE softmax temperature
    rprecision_candidates: int = 99  # mismatching captions per image in R-precision (AttnGAN: 99)
    seed: int = 2024  # not the GAN's seed: a different instance from the GAN's encoders

    def text_config(self) -> TextEncoderConfig:
        return TextEncoderConfig(embed_dim=self.embed_dim, hidden=self.hidden, mode="pretrained",
                                 pretrain_epochs=self.epochs, pretrain_batch=self.batch_size,
                                 pretrain_lr=self.lr, image_channels=self.image_width)


def _build(config: AlignmentConfig, vocab: Vocabulary):
    from gan_core.models.text_encoder import build_text_encoder, sentence_dim
    from gan_core.train.text_pretrain import build_image_encoder

    text_config = config.text_config()
    text_encoder = build_text_encoder(len(vocab), vocab.max_len, text_config, name="alignment_text_encoder")
    image_encoder = build_image_encoder(sentence_dim(text_config), config.image_width, name="alignment_image_encoder")
    return text_encoder, image_encoder


class AlignmentModel:
    """Image and caption embeddings in one space; compare them with cosine similarity."""

    def __init__(self, config: AlignmentConfig, vocab: Vocabulary, text_encoder, image_encoder, identity: str = ""):
        import tensorflow as tf

        self.config, self.vocab, self.identity = config, vocab, identity
        self.text_encoder, self.image_encoder = text_encoder, image_encoder
        self._images = tf.function(lambda x: image_encoder(x / 127.5 - 1.0, training=False),
                                   input_signature=[tf.TensorSpec([None, 64, 64, 3], tf.float32)])
        self._texts = tf.function(lambda ids: text_encoder(ids, training=False),
                                  input_signature=[tf.TensorSpec([None, vocab.max_len], tf.int32)])

    def embed_images(self, images) -> np.ndarray:
        """float32 [N, 64, 64, 3] in [0, 255] -> float32 [N, D] (not normalised)."""
        images = np.asarray(images, dtype=np.float32)
        if images.ndim != 4 or images.shape[1:] != (64, 64, 3):
            raise ValueError(f"images must be [N, 64, 64, 3] in [0, 255], got shape {images.shape}")
        return np.concatenate([self._images(images[i:i + BATCH]).numpy() for i in range(0, len(images), BATCH)]
                              or [np.zeros((0, self.dim), np.float32)])

    def embed_captions(self, captions: Sequence[str]) -> np.ndarray:
        """Captions -> float32 [N, D]; unknown words count as <RARE>, as in training."""
        ids, _ = self.vocab.encode_batch(list(captions))
        return np.concatenate([self._texts(ids[i:i + BATCH]).numpy() for i in range(0, len(ids), BATCH)]
                              or [np.zeros((0, self.dim), np.float32)])

    @property
    def dim(self) -> int:
        return int(self.text_encoder.output.shape[-1])

    def save(self, out_dir: str | Path, metrics: dict) -> None:
        with atomic.atomic_dir(out_dir) as tmp:
            storage.save_weights(tmp / "weights.npz", {**storage.weight_arrays(self.text_encoder, "text"),
                                                       **storage.weight_arrays(self.image_encoder, "image")})
            atomic.write_json(tmp / "config.json", dataclasses.asdict(self.config))
            atomic.write_json(tmp / "vocab.json", self.vocab.to_json())
            atomic.write_json(tmp / "metrics.json", metrics)


def real_test_metrics(model: AlignmentModel, dataset) -> dict:
    """Caption cosine and R-precision of the real test images with their test captions."""
    from gan_core.eval.metrics import caption_cosine, r_precision

    row_of = {int(t): r for r, t in zip(dataset.test_rows, dataset.image_table.loc[dataset.test_rows, "test_id"])}
    pairs = [(row_of[int(i)], c) for i, c in zip(dataset.test_captions["ID"], dataset.test_captions["caption"])
             if int(i) in row_of]
    if len(pairs) < 2:
        return {}
    images = np.asarray(dataset.images(64))[[r for r, _ in pairs]].astype(np.float32)
    image_emb, text_emb = model.embed_images(images), model.embed_captions([c for _, c in pairs])
    candidates = min(model.config.rprecision_candidates, len(pairs) - 1)
    return {"real_caption_cosine": caption_cosine(image_emb, text_emb),
            "real_r_precision": r_precision(image_emb, text_emb, candidates=candidates),
            "r_precision_candidates": candidates}


def train_alignment(data_dir, out_dir, config: AlignmentConfig = AlignmentConfig(), log=print) -> dict:
    """Train on the training pairs, write the model folder `out_dir`, return its metrics."""
    from gan_core.data.dataset import PreparedDataset

    dataset = PreparedDataset(data_dir)  # before the slow imports: a user error fails fast
    if len(dataset.train_rows) < 2:
        raise UserError(f"{data_dir} has {len(dataset.train_rows)} training images; contrastive training needs 2+")
    import keras

    from gan_core.train.text_pretrain import pretrain
    t0 = time.perf_counter()
    keras.utils.set_random_seed(config.seed)  # weight initialisation; batches derive from the seed too
    text_encoder, image_encoder = _build(config, dataset.vocab)
    _, result = pretrain(dataset, text_encoder, config.text_config(), config.seed, image_encoder=image_encoder,
                         temperature=config.temperature, log=log)
    model = AlignmentModel(config, dataset.vocab, text_encoder, image_encoder)
    metrics = {"test_recall_at_1": result.test_recall_at_1, "test_images": int(len(dataset.test_rows)),
               "losses": result.losses, **real_test_metrics(model, dataset),
               "seconds": round(time.perf_counter() - t0, 1)}
    model.save(out_dir, metrics)
    log(f"alignment: test recall@1 {metrics['test_recall_at_1']:.3f}, real R-precision "
        f"{metrics.get('real_r_precision', float('nan')):.3f} -> {out_dir}")
    return metrics


def load_alignment(path: str | Path | None = None) -> AlignmentModel:
    """The trained alignment model at `path` (default checkpoints/evaluator/alignment in the repo)."""
    path = Path(DEFAULT_PATH if path is None else path)
    hint = f"train it with: {TRAIN_HINT}"
    if not (path / "weights.npz").is_file():
        raise UserError(f"no alignment model at {path} (weights.npz missing); {hint}")
    try:
        config = AlignmentConfig(**json.loads((path / "config.json").read_text()))
        vocab = Vocabulary.load(path / "vocab.json")
        arrays = storage.read_weights(path / "weights.npz")
    except (OSError, ValueError, TypeError, KeyError, EOFError) as exc:
        raise UserError(f"alignment model at {path} is incomplete or corrupt ({exc}); {hint}") from None
    text_encoder, image_encoder = _build(config, vocab)
    try:
        for group, model in (("text", text_encoder), ("image", image_encoder)):
            storage.assign_weights(model, arrays, group, source=f"alignment model at {path}")
    except UserError as exc:
        raise UserError(f"{exc}; {hint}") from None
    return AlignmentModel(config, vocab, text_encoder, image_encoder, identity=storage.file_identity(path / "weights.npz"))

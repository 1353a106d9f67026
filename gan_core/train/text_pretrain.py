"""Contrastive image-text pretraining (in the spirit of Reed et al. 2016 and AttnGAN's DAMSM
sentence loss): a text encoder and a small from-scratch image encoder trained so that matching
(image, caption) pairs have the highest cosine similarity in the batch (symmetric InfoNCE).

Used twice, as two separate models: to pretrain the GAN's text encoder (then frozen), and as the
independent alignment model of the evaluation (caption cosine, R-precision). Only images and
their captions are used: no class labels.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from gan_core.config import TextEncoderConfig
from gan_core.data.dataset import PreparedDataset
from gan_core.train.losses import info_nce_pairs


def build_image_encoder(out_dim: int, width: int = 32, image_size: int = 64, name: str = "image_encoder") -> keras.Model:
    """image [B, S, S, 3] in [-1, 1] -> embedding [B, out_dim] (not normalised)."""
    image = keras.Input((image_size, image_size, 3), name="image")
    x = image
    for mult in (1, 2, 4, 8):  # 64 -> 32 -> 16 -> 8 -> 4, downsampling first to keep it cheap
        x = layers.Conv2D(width * mult, 3, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.Conv2D(width * mult, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(out_dim, name="proj")(x)
    return keras.Model(image, x, name=name)


def l2_normalize(x, axis: int = -1):
    return x / tf.sqrt(tf.reduce_sum(tf.square(x), axis=axis, keepdims=True) + 1e-12)




@dataclass
class PretrainResult:
    losses: list[float]  # mean loss per epoch
    test_recall_at_1: float  # image -> caption recall@1 among the test images (one caption each)
    seconds: float


def retrieval_recall(image_encoder, text_encoder, dataset: PreparedDataset, rows: np.ndarray, batch: int = 256) -> float:
    """Recall@1 of image -> caption retrieval among `rows` (first caption of each image)."""
    images = np.asarray(dataset.images(64))[rows].astype(np.float32) / 127.5 - 1.0
    caption_idx = np.array([dataset.captions_by_row[r][0] for r in rows])
    img = np.concatenate([image_encoder(images[i:i + batch], training=False).numpy() for i in range(0, len(rows), batch)])
    txt = np.concatenate([text_encoder(dataset.tokens[caption_idx[i:i + batch]], training=False).numpy()
                          for i in range(0, len(rows), batch)])
    sims = l2_normalize(tf.constant(img)).numpy() @ l2_normalize(tf.constant(txt)).numpy().T
    return float(np.mean(np.argmax(sims, axis=1) == np.arange(len(rows))))


def pretrain(dataset: PreparedDataset, text_encoder: keras.Model, config: TextEncoderConfig, seed: int,
             image_encoder: keras.Model | None = None, temperature: float = 0.1, log=print) -> tuple[keras.Model, PretrainResult]:
    """Train `text_encoder` (in place) with a fresh image encoder; returns (image_encoder, result)."""
    from gan_core.data.dataset import PipelineConfig, make_pipeline

    if image_encoder is None:
        with tf.init_scope():
            image_encoder = build_image_encoder(int(text_encoder.output.shape[-1]), config.image_channels)
    optimizer = keras.optimizers.Adam(config.pretrain_lr)
    variables = image_encoder.trainable_variables + text_encoder.trainable_variables

    @tf.function(reduce_retracing=True)
    def step(images, captions):
        with tf.GradientTape() as tape:
            loss = info_nce_pairs(image_encoder(images, training=True), text_encoder(captions, training=True),
                                  temperature)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    t0 = time.perf_counter()
    history = []
    batch = min(config.pretrain_batch, len(dataset.train_rows))
    for epoch in range(config.pretrain_epochs):
        pipe = make_pipeline(dataset, PipelineConfig(batch_size=batch, seed=seed + 1000), epoch)
        losses = [float(step(b["images"], b["captions"])) for b in pipe]
        history.append(float(np.mean(losses)))
        log(f"text pretraining epoch {epoch + 1}/{config.pretrain_epochs}: loss {history[-1]:.3f} "
            f"({time.perf_counter() - t0:.0f} s)")
    recall = retrieval_recall(image_encoder, text_encoder, dataset, dataset.test_rows)
    log(f"text pretraining done: test image->caption recall@1 {recall:.3f} among {len(dataset.test_rows)}")
    return image_encoder, PretrainResult(history, recall, time.perf_counter() - t0)

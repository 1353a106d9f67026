"""Recurrent caption encoder: word ids [B, L] -> sentence code [B, 2*hidden].

A bidirectional GRU over the word embeddings (padding masked), its two final states
concatenated and layer-normalised. The normalisation matters: a code trained only through the
discriminator otherwise shrinks towards zero and the discriminator learns to ignore the caption.
"""

from __future__ import annotations

import keras
from keras import layers

from gan_core.config import TextEncoderConfig


def build_text_encoder(vocab_size: int, max_len: int, config: TextEncoderConfig, name: str = "text_encoder") -> keras.Model:
    ids = keras.Input(shape=(max_len,), dtype="int32", name="word_ids")
    # Always float32: small, and recurrent numerics in bf16 buy little on a 20-step sequence.
    x = layers.Embedding(vocab_size, config.embed_dim, mask_zero=True, dtype="float32", name="embedding")(ids)
    x = layers.Bidirectional(layers.GRU(config.hidden, dtype="float32"), dtype="float32", name="bigru")(x)
    x = layers.LayerNormalization(dtype="float32", name="norm")(x)
    return keras.Model(ids, x, name=name)


def sentence_dim(config: TextEncoderConfig) -> int:
    return 2 * config.hidden

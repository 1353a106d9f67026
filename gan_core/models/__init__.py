"""Model construction by name: the text encoder plus the generator/discriminator of an architecture."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import keras

from gan_core.config import ModelConfig
from gan_core.models import dcgan, dfgan
from gan_core.models.text_encoder import build_text_encoder, sentence_dim

_ARCHS = {"dfgan": dfgan, "dcgan": dcgan}


@contextlib.contextmanager
def dtype_policy(name: str):
    """Build layers under a Keras dtype policy without leaving it set globally."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def noise_size(config: ModelConfig) -> int:
    """Length of the per-image noise vector a seed expands to (dcgan adds the CA epsilon)."""
    return config.noise_dim + (config.cond_dim if config.arch == "dcgan" else 0)


@dataclass
class Networks:
    config: ModelConfig
    text_encoder: keras.Model
    generator: keras.Model
    discriminator: keras.Model | None

    def generate(self, noise, sentence, training: bool = False):
        """-> (images [B,64,64,3] float32 in [-1,1], KL term of conditioning augmentation or 0)."""
        out = self.generator([noise, sentence], training=training)
        if self.config.arch == "dcgan":
            image, mu, logvar = out
            kl = 0.5 * keras.ops.mean(keras.ops.sum(keras.ops.exp(logvar) + mu**2 - 1.0 - logvar, axis=1))
            return image, kl
        return out, 0.0


def build_generator(config: ModelConfig, precision: str = "float32", name: str = "generator") -> keras.Model:
    with dtype_policy(precision):
        return _ARCHS[config.arch].build_generator(config, sentence_dim(config.text), name=name)


def build_networks(config: ModelConfig, vocab_size: int, max_len: int, precision: str = "float32",
                   with_discriminator: bool = True) -> Networks:
    text_encoder = build_text_encoder(vocab_size, max_len, config.text)
    generator = build_generator(config, precision)
    discriminator = None
    if with_discriminator:
        with dtype_policy(precision):
            discriminator = _ARCHS[config.arch].build_discriminator(config, sentence_dim(config.text))
    return Networks(config, text_encoder, generator, discriminator)

"""GAN-INT-CLS baseline (Reed et al. 2016): DCGAN generator and discriminator with text.

Generator: the sentence code is projected with conditioning augmentation (a Gaussian whose mean
and log-variance come from the code; a KL term keeps it near N(0, I)), concatenated with the
noise, then transposed convolutions with BatchNorm from 4x4 to 64x64.
Discriminator: strided convolutions to 4x4, the projected code replicated at 4x4, one logit.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from gan_core.config import ModelConfig


@keras.saving.register_keras_serializable("gan_core")
class ConditioningAugmentation(layers.Layer):
    """sentence -> (c, mu, logvar) with c = mu + exp(logvar / 2) * eps; eps from an explicit noise input."""

    def __init__(self, cond_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.cond_dim = cond_dim
        self.proj = layers.Dense(2 * cond_dim, dtype=self.dtype_policy)

    def call(self, sentence, eps):
        stats = ops.leaky_relu(self.proj(sentence), 0.2)
        mu, logvar = stats[:, : self.cond_dim], stats[:, self.cond_dim:]
        return mu + ops.exp(0.5 * logvar) * ops.cast(eps, mu.dtype), mu, logvar

    def get_config(self):
        return {**super().get_config(), "cond_dim": self.cond_dim}


def build_generator(config: ModelConfig, sentence_dim: int, name: str = "generator") -> keras.Model:
    """(noise [B, noise_dim + cond_dim], sentence) -> (image [B,64,64,3] in [-1,1], mu, logvar).

    The noise input carries both z and the conditioning-augmentation epsilon, so that a seed fixes
    the whole image.
    """
    ngf = config.ngf
    noise = keras.Input((config.noise_dim + config.cond_dim,), name="noise")
    sentence = keras.Input((sentence_dim,), name="sentence")
    z = layers.Lambda(lambda t: t[:, : config.noise_dim], name="z")(noise)
    eps = layers.Lambda(lambda t: t[:, config.noise_dim:], name="eps")(noise)
    c, mu, logvar = ConditioningAugmentation(config.cond_dim, name="ca")(sentence, eps)
    x = layers.Concatenate()([z, c])
    x = layers.Dense(4 * 4 * ngf * 8, use_bias=False)(x)
    x = layers.Reshape((4, 4, ngf * 8))(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    for mult in (4, 2, 1):
        x = layers.Conv2DTranspose(ngf * mult, 4, strides=2, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2DTranspose(3, 4, strides=2, padding="same")(x)
    image = layers.Activation("tanh", dtype="float32", name="image")(x)
    mu = layers.Activation("linear", dtype="float32", name="mu")(mu)
    logvar = layers.Activation("linear", dtype="float32", name="logvar")(logvar)
    return keras.Model([noise, sentence], [image, mu, logvar], name=name)


def build_discriminator(config: ModelConfig, sentence_dim: int, name: str = "discriminator") -> keras.Model:
    ndf = config.ndf
    image = keras.Input((config.image_size, config.image_size, 3), name="image")
    sentence = keras.Input((sentence_dim,), name="sentence")
    x = layers.LeakyReLU(0.2)(layers.Conv2D(ndf, 4, strides=2, padding="same")(image))
    for mult in (2, 4, 8):
        x = layers.Conv2D(ndf * mult, 4, strides=2, padding="same", use_bias=False)(x)
        # LayerNorm-free but batch-independent: GroupNorm keeps the matching-aware terms per-sample.
        x = layers.LeakyReLU(0.2)(layers.GroupNormalization(groups=8)(x))
    s = layers.LeakyReLU(0.2)(layers.Dense(config.cond_dim)(sentence))
    s = layers.UpSampling2D(4)(layers.Reshape((1, 1, config.cond_dim))(s))
    h = layers.Concatenate()([x, s])
    h = layers.LeakyReLU(0.2)(layers.Conv2D(ndf * 8, 1)(h))
    h = layers.Conv2D(1, 4, padding="valid")(h)
    logit = layers.Reshape((), dtype="float32", name="score")(layers.Activation("linear", dtype="float32")(h))
    return keras.Model([image, sentence], logit, name=name)

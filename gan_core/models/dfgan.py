"""DF-GAN-style single-stage generator and discriminator for 64x64 (Tao et al. 2022, tobran/DF-GAN).

Generator: noise -> 4x4 feature map -> four up-blocks to 64x64. Each block fuses the condition
(sentence code concatenated with the noise, as in DF-GAN's later versions, so z also steers the
style) through affine modulations: h <- gamma(c) * h + beta(c).
Discriminator: a residual down-sampling backbone to 4x4, then a conditional head that sees the
feature map with the replicated sentence code and outputs one logit.
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops

from gan_core.config import ModelConfig, g_multipliers


@keras.saving.register_keras_serializable("gan_core")
class Affine(layers.Layer):
    """Text-conditioned channel-wise affine: gamma(c) starts at 1 and beta(c) at 0.

    Each of gamma and beta is a 2-layer MLP whose hidden width is the channel count, as in DF-GAN.
    """

    def __init__(self, channels: int, hidden: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        hidden = hidden or channels
        self.hidden = hidden
        self.gamma_mlp = [layers.Dense(hidden, activation="relu", dtype=self.dtype_policy),
                          layers.Dense(channels, kernel_initializer="zeros", bias_initializer="ones", dtype=self.dtype_policy)]
        self.beta_mlp = [layers.Dense(hidden, activation="relu", dtype=self.dtype_policy),
                         layers.Dense(channels, kernel_initializer="zeros", dtype=self.dtype_policy)]

    def call(self, h, cond):
        gamma, beta = cond, cond
        for layer in self.gamma_mlp:
            gamma = layer(gamma)
        for layer in self.beta_mlp:
            beta = layer(beta)
        return h * gamma[:, None, None, :] + beta[:, None, None, :]

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "hidden": self.hidden}


@keras.saving.register_keras_serializable("gan_core")
class FuseBlock(layers.Layer):
    """DF-GAN's deep fusion: affine -> LeakyReLU -> affine -> LeakyReLU."""

    def __init__(self, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        self.affine1 = Affine(channels, dtype=self.dtype_policy)
        self.affine2 = Affine(channels, dtype=self.dtype_policy)

    def call(self, h, cond):
        h = ops.leaky_relu(self.affine1(h, cond), 0.2)
        return ops.leaky_relu(self.affine2(h, cond), 0.2)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


@keras.saving.register_keras_serializable("gan_core")
class UpBlock(layers.Layer):
    """x2 upsample, then fuse -> conv3x3 -> fuse -> conv3x3, with a 1x1 shortcut.

    Nearest (DF-GAN's) copies each cell into a 2x2 block; bilinear avoids the block seams that
    nearest left in our small, short-trained models."""

    def __init__(self, in_channels: int, out_channels: int, interpolation: str = "nearest", **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.interpolation = interpolation
        p = self.dtype_policy
        self.up = layers.UpSampling2D(2, interpolation=interpolation, dtype=p)
        self.fuse1 = FuseBlock(in_channels, dtype=p)
        self.conv1 = layers.Conv2D(out_channels, 3, padding="same", dtype=p)
        self.fuse2 = FuseBlock(out_channels, dtype=p)
        self.conv2 = layers.Conv2D(out_channels, 3, padding="same", dtype=p)
        self.shortcut = layers.Conv2D(out_channels, 1, dtype=p) if in_channels != out_channels else None

    def call(self, x, cond):
        x = self.up(x)
        h = self.conv1(self.fuse1(x, cond))
        h = self.conv2(self.fuse2(h, cond))
        return (self.shortcut(x) if self.shortcut is not None else x) + h

    def get_config(self):
        return {**super().get_config(), "in_channels": self.in_channels, "out_channels": self.out_channels,
                "interpolation": self.interpolation}


@keras.saving.register_keras_serializable("gan_core")
class SkipExcitation(layers.Layer):
    """FastGAN's skip-layer excitation (Liu et al. 2021): a low-resolution map gates the channels of a
    high-resolution one, h * sigmoid(f(low)), f = pool to 4x4 -> conv4x4 (to 1x1) -> LReLU -> conv1x1.
    The gate is per image and per channel, so coarse features (layout, colour) steer fine ones."""

    def __init__(self, out_channels: int, **kwargs):
        super().__init__(**kwargs)
        self.out_channels = out_channels
        p = self.dtype_policy
        self.conv1 = layers.Conv2D(out_channels, 4, padding="valid", dtype=p)
        self.conv2 = layers.Conv2D(out_channels, 1, dtype=p)

    def call(self, low, high):
        pooled = ops.average_pool(low, low.shape[1] // 4, low.shape[1] // 4) if low.shape[1] > 4 else low
        gate = ops.sigmoid(self.conv2(ops.leaky_relu(self.conv1(pooled), 0.1)))  # [B, 1, 1, C]
        return high * gate

    def get_config(self):
        return {**super().get_config(), "out_channels": self.out_channels}


@keras.saving.register_keras_serializable("gan_core")
class DownBlock(layers.Layer):
    """conv4x4/2 -> LReLU -> conv3x3 -> LReLU residual, added as shortcut + gamma * residual.

    gamma starts at residual_init: DF-GAN's 0 makes every block begin as its (linear, pooling)
    shortcut; 1 lets D see texture from the first step."""

    def __init__(self, in_channels: int, out_channels: int, residual_init: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.residual_init = float(residual_init)
        p = self.dtype_policy
        self.conv1 = layers.Conv2D(out_channels, 4, strides=2, padding="same", dtype=p)
        self.conv2 = layers.Conv2D(out_channels, 3, padding="same", dtype=p)
        self.pool = layers.AveragePooling2D(2, dtype=p)
        self.shortcut = layers.Conv2D(out_channels, 1, dtype=p) if in_channels != out_channels else None

    def build(self, input_shape):
        self.gamma = self.add_weight(name="gamma", shape=(), initializer=keras.initializers.Constant(self.residual_init))

    def call(self, x):
        h = ops.leaky_relu(self.conv1(x), 0.2)
        h = ops.leaky_relu(self.conv2(h), 0.2)
        s = self.pool(self.shortcut(x) if self.shortcut is not None else x)
        return s + ops.cast(self.gamma, h.dtype) * h

    def get_config(self):
        return {**super().get_config(), "in_channels": self.in_channels, "out_channels": self.out_channels,
                "residual_init": self.residual_init}


def build_generator(config: ModelConfig, sentence_dim: int, name: str = "generator") -> keras.Model:
    """(noise [B, noise_dim], sentence [B, sentence_dim]) -> image [B, 64, 64, 3] in [-1, 1], float32."""
    channels = [config.ngf * m for m in g_multipliers(config)]
    noise = keras.Input((config.noise_dim,), name="noise")
    sentence = keras.Input((sentence_dim,), name="sentence")
    cond = layers.Concatenate(name="condition")([noise, sentence])
    x = layers.Dense(4 * 4 * channels[0], name="fc")(noise)
    x = layers.Reshape((4, 4, channels[0]))(x)
    stages = []
    for i, (cin, cout) in enumerate(zip(channels[:-1], channels[1:])):
        x = UpBlock(cin, cout, interpolation=config.upsample, name=f"up{i}")(x, cond)
        stages.append(x)
    if config.g_skip_excitation:  # the 8 px stage gates the 64 px channels
        x = SkipExcitation(channels[-1], name="sle_8_to_64")(stages[0], x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2D(3, 3, padding="same", name="to_rgb")(x)
    image = layers.Activation("tanh", dtype="float32", name="image")(x)
    return keras.Model([noise, sentence], image, name=name)


def _lowres_branch(image, config: ModelConfig):
    """The multi-scale part of D (config.d_lowres): the image average-pooled to d_lowres px, then
    down-blocks to 4x4 with the main backbone's widths at those sizes -> [B, 4, 4, ndf*8]."""
    size = config.d_lowres
    x = layers.AveragePooling2D(config.image_size // size, name="lowres_pool")(image)
    steps = int(math.log2(size // 4))
    channels = [config.ndf * m for m in (1, 2, 4, 8, 8)][-steps - 1:]
    x = layers.Conv2D(channels[0], 3, padding="same", name="lowres_from_rgb")(x)
    for i, (cin, cout) in enumerate(zip(channels[:-1], channels[1:])):
        x = DownBlock(cin, cout, residual_init=config.d_residual_init, name=f"lowres_down{i}")(x)
    return x


def build_discriminator(config: ModelConfig, sentence_dim: int, name: str = "discriminator") -> keras.Model:
    """(image [B, 64, 64, 3], sentence [B, sentence_dim]) -> logit [B], float32.

    Also exposes `backbone` (image -> 4x4 features) and `head` ((features, sentence) -> logit) as
    attributes, so the trainer can score one image against several captions from one backbone pass.
    """
    channels = [config.ndf * m for m in (1, 2, 4, 8, 8)]
    image = keras.Input((config.image_size, config.image_size, 3), name="image")
    x = layers.Conv2D(channels[0], 3, padding="same", name="from_rgb")(image)
    for i, (cin, cout) in enumerate(zip(channels[:-1], channels[1:])):
        x = DownBlock(cin, cout, residual_init=config.d_residual_init, name=f"down{i}")(x)
    if config.d_lowres:
        x = layers.Concatenate(name="multiscale")([x, _lowres_branch(image, config)])
    backbone = keras.Model(image, x, name=f"{name}_backbone")

    # Conditional head (DF-GAN D_GET_LOGITS): features + replicated sentence at 4x4.
    features = keras.Input((4, 4, x.shape[-1]), name="features")
    sentence = keras.Input((sentence_dim,), name="sentence")
    s = layers.Reshape((1, 1, sentence_dim))(sentence)
    s = layers.UpSampling2D(4, name="replicate")(s)
    h = layers.Concatenate()([features, s])
    h = layers.Conv2D(config.ndf * 2, 3, padding="same", name="joint_conv")(h)
    h = layers.LeakyReLU(0.2)(h)
    h = layers.Conv2D(1, 4, padding="valid", name="logit")(h)
    logit = layers.Reshape((), dtype="float32", name="score")(h)
    head = keras.Model([features, sentence], logit, name=f"{name}_head")

    image_in = keras.Input((config.image_size, config.image_size, 3), name="image")
    sentence_in = keras.Input((sentence_dim,), name="sentence")
    model = keras.Model([image_in, sentence_in], head([backbone(image_in), sentence_in]), name=name)
    model.backbone, model.head = backbone, head
    return model


def build_contrast_heads(feature_channels: int, sentence_dim: int, dim: int, name: str = "d_contrast") -> keras.Model:
    """D's projections for the text-alignment term (XMC-GAN, Zhang et al. 2021): (D's 4x4 backbone
    features, sentence code) -> (image code [B, dim], sentence code [B, dim]), float32. A training-only
    part of D: snapshots and best-of-N never use it."""
    features = keras.Input((4, 4, feature_channels), name="features")
    sentence = keras.Input((sentence_dim,), name="sentence")
    x = layers.LeakyReLU(0.2)(layers.Activation("linear", dtype="float32")(features))
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    image_code = layers.Dense(dim, name="image_proj")(x)
    sentence_code = layers.Dense(dim, name="sentence_proj")(sentence)
    return keras.Model([features, sentence], [image_code, sentence_code], name=name)

"""Recipe options for the realism experiments: the generator's channel schedule (model.g_mult) and
StyleGAN2-ADA's EMA (a half-life in images with a ramp-up), on real Keras models and a real trainer
(the EMA's update in a real traced step: test_training.py's step test)."""

import numpy as np
import pytest
from test_training import data, make_trainer  # noqa: F401  (the tiny prepared dataset, a trainer)
from tiny import tiny_config

from gan_core import UserError
from gan_core.models import dfgan


def conv_channels(generator) -> list[int]:
    return [layer.out_channels for layer in generator.layers if isinstance(layer, dfgan.UpBlock)]


def test_g_mult_sets_each_stage_width_and_defaults_to_dfgan():
    default = dfgan.build_generator(tiny_config().model, 32)
    assert conv_channels(default) == [4 * m for m in (8, 4, 2, 1)]  # ngf 4, DF-GAN's 8,8,4,2,1
    wide = dfgan.build_generator(tiny_config(model__g_mult="16,16,8,2,1").model, 32)
    assert conv_channels(wide) == [64, 32, 8, 4]
    assert wide.count_params() > default.count_params()
    z, s = np.zeros((2, 16), np.float32), np.zeros((2, 32), np.float32)
    assert tuple(wide([z, s]).shape) == (2, 64, 64, 3)


@pytest.mark.parametrize("bad", ["8,8,4,2", "8,8,4,2,0", "a,b,c,d,e", ""])
def test_g_mult_must_name_five_positive_stages(bad):
    with pytest.raises(UserError, match="model.g_mult"):
        tiny_config(model__g_mult=bad)


def test_ema_halflife_follows_stylegan2_ada_with_rampup(data):  # noqa: F811
    batch, halflife, rampup = 8, 400, 0.05
    # One trainer, its config swapped: _ema_decay reads the config when called (a real step traces it).
    _, trainer = make_trainer(data, tiny_config(ema_halflife_images=halflife, ema_rampup=rampup))
    for step in (0, 9, 99, 999, 5000):
        trainer.step.assign(step)
        seen = (step + 1) * batch
        expected = 0.5 ** (batch / min(halflife, seen * rampup))  # StyleGAN2-ADA training_loop.py
        assert float(trainer._ema_decay()) == pytest.approx(expected, rel=1e-5), step
    # no ramp-up: the full half-life from the first step
    trainer.config = tiny_config(ema_halflife_images=halflife, ema_rampup=0.0)
    trainer.step.assign(0)
    assert float(trainer._ema_decay()) == pytest.approx(0.5 ** (batch / halflife), rel=1e-6)
    # off (0): the constant ema_decay after ema_start, as before
    trainer.config = tiny_config(ema_decay=0.9, ema_start=10)
    trainer.step.assign(5)
    assert float(trainer._ema_decay()) == 0.0
    trainer.step.assign(10)
    assert float(trainer._ema_decay()) == pytest.approx(0.9)


@pytest.mark.parametrize("field, value", [("ema_halflife_images", -1), ("ema_rampup", 1.5)])
def test_ema_fields_are_checked(field, value):
    with pytest.raises(UserError, match=field):
        tiny_config(**{field: value})


def lowres_layers(disc) -> list[str]:
    return [layer.name for layer in disc.backbone.layers if layer.name.startswith("lowres_")]


@pytest.mark.parametrize("size, blocks", [(8, 1), (16, 2), (32, 3)])
def test_d_lowres_adds_a_coarse_branch_that_sees_the_image(size, blocks):
    import tensorflow as tf

    plain = dfgan.build_discriminator(tiny_config().model, 32)
    assert not lowres_layers(plain)
    disc = dfgan.build_discriminator(tiny_config(model__d_lowres=size).model, 32)
    assert lowres_layers(disc) == ["lowres_pool", "lowres_from_rgb"] + [f"lowres_down{i}" for i in range(blocks)]
    ndf = tiny_config().model.ndf
    assert tuple(disc.backbone.output.shape) == (None, 4, 4, 2 * 8 * ndf)  # main + coarse features side by side
    image = tf.random.stateless_uniform((2, 64, 64, 3), (0, 1), -1.0, 1.0)
    sentence = tf.zeros((2, 32))
    assert tuple(disc([image, sentence]).shape) == (2,)
    # The coarse branch judges the pooled image: its features change with a change that survives pooling
    # (a shift of one block's mean) and not with one that averages out inside each pooling block.
    branch = tf.keras.Model(disc.backbone.input, disc.backbone.get_layer(f"lowres_down{blocks - 1}").output)
    k = 64 // size
    checker = tf.tile(tf.constant([[1.0, -1.0], [-1.0, 1.0]]), (k // 2, k // 2))  # k x k, mean 0
    zero_mean = 0.1 * tf.tile(checker, (size, size))[None, :, :, None]
    assert np.allclose(branch(image), branch(image + zero_mean), atol=1e-5)
    assert not np.allclose(branch(image), branch(image + 0.1), atol=1e-3)


def test_d_lowres_is_checked_and_old_runs_read_it_as_off():
    from gan_core import legacy

    for bad in (4, 64, 12):
        with pytest.raises(UserError, match="model.d_lowres"):
            tiny_config(model__d_lowres=bad)
    with pytest.raises(UserError, match="model.d_lowres"):
        tiny_config(model__arch="dcgan", model__d_lowres=16)
    assert legacy.migrate_model({"ngf": 16})["d_lowres"] == 0


# A real training step that trains both options' layers: test_contrastive.py (one traced run for
# all of Realism II's additions).


def test_skip_excitation_gates_the_64px_channels_from_the_8px_stage():
    import tensorflow as tf

    plain = dfgan.build_generator(tiny_config().model, 32)
    gated = dfgan.build_generator(tiny_config(model__g_skip_excitation=True).model, 32)
    sle = gated.get_layer("sle_8_to_64")
    assert not [layer for layer in plain.layers if isinstance(layer, dfgan.SkipExcitation)]
    assert gated.count_params() > plain.count_params()
    z = tf.random.stateless_normal((3, 16), (0, 1))
    s = tf.random.stateless_normal((3, 32), (0, 2))
    assert tuple(gated([z, s]).shape) == (3, 64, 64, 3)
    # The gate is per image and per channel in (0, 1): the 64 px map is scaled, not replaced.
    low = gated.get_layer("up0").output
    high = gated.get_layer("up3").output
    probe = tf.keras.Model(gated.inputs, [low, high, sle.output])
    low_v, high_v, out_v = (np.asarray(t) for t in probe([z, s]))
    ratio = out_v / np.where(np.abs(high_v) > 1e-4, high_v, np.nan)
    per_channel = np.nanstd(ratio.reshape(3, -1, ratio.shape[-1]), axis=1)
    assert np.nanmax(per_channel) < 1e-3  # one factor per (image, channel)
    factors = np.nanmean(ratio.reshape(3, -1, ratio.shape[-1]), axis=1)
    assert np.all((factors > 0) & (factors < 1)) and np.ptp(factors, axis=0).max() > 1e-4  # differs per image
    assert low_v.shape[1:3] == (8, 8) and high_v.shape[1:3] == (64, 64)
    with pytest.raises(UserError, match="g_skip_excitation"):
        tiny_config(model__arch="dcgan", model__g_skip_excitation=True)

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

"""Run as a subprocess: MirroredStrategy over two logical CPU devices computes the same update as
one device. (Logical devices must be configured before TensorFlow initialises, hence a process.)"""

import sys

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from tiny import tiny_config  # noqa: E402

from gan_core.data.dataset import PipelineConfig, PreparedDataset, make_pipeline  # noqa: E402
from gan_core.models import build_networks  # noqa: E402
from gan_core.train.step import GANTrainer  # noqa: E402


def main(data_dir: str, steps: int = 1) -> None:
    config = tiny_config()  # gp_every=1: the step carries the MA-GP double backprop
    ds = PreparedDataset(data_dir)
    batches = list(make_pipeline(ds, PipelineConfig(batch_size=config.batch_size), 0).take(steps))
    single = build_networks(config.model, len(ds.vocab), ds.vocab.max_len)
    mirrored_strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with mirrored_strategy.scope():
        mirrored = build_networks(config.model, len(ds.vocab), ds.vocab.max_len)
    for a, b in ((single.generator, mirrored.generator), (single.discriminator, mirrored.discriminator),
                 (single.text_encoder, mirrored.text_encoder)):
        b.set_weights(a.get_weights())
    t_single = GANTrainer(single, config, "float32")
    t_mirrored = GANTrainer(mirrored, config, "float32", mirrored_strategy)
    assert mirrored_strategy.num_replicas_in_sync == 2
    for trainer in (t_single, t_mirrored):  # a decayed rate, assigned outside the strategy's scope
        trainer.set_lr_scale(0.5)
    for batch in batches:
        m1 = t_single.train_step(batch)
        dist = mirrored_strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(batch).unbatch()
                                                                 .batch(config.batch_size))
        m2 = t_mirrored.train_step(next(iter(dist)))
        for k in m1:
            assert abs(m1[k] - m2[k]) <= 1e-4 * max(1.0, abs(m1[k])), (k, m1[k], m2[k])
    worst = 0.0
    for a, b in ((single.generator, mirrored.generator), (single.discriminator, mirrored.discriminator),
                 (single.text_encoder, mirrored.text_encoder), (t_single.ema_generator, t_mirrored.ema_generator)):
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            worst = max(worst, float(np.max(np.abs(wa - wb))))
    print(f"max weight difference {worst:.2e} after {steps} step(s) on 2 replicas")
    assert worst < 1e-4, worst
    print("EQUIVALENT")


if __name__ == "__main__":
    main(sys.argv[1])

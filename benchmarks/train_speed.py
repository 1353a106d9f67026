"""Seconds per training step and images/s for the default model (bf16 and float32) and the
dcgan baseline (float32), same batch, on the prepared data. Prints one line per setting."""

from __future__ import annotations

import argparse
import time

from gan_core import config as cfg
from gan_core.data.dataset import PipelineConfig, PreparedDataset, make_pipeline
from gan_core.models import build_networks
from gan_core.train.step import GANTrainer

DCGAN_BASELINE = {"model.arch": "dcgan", "model.ngf": "64", "model.ndf": "64", "gp_weight": "0",
                  "mode_seeking_weight": "0", "diffaugment": "", "lr_g": "2e-4", "lr_d": "2e-4", "beta1": "0.5",
                  "beta2": "0.999", "model.text.mode": "joint"}


def time_setting(dataset, config: cfg.TrainConfig, precision: str, steps: int, warmup: int) -> float:
    nets = build_networks(config.model, len(dataset.vocab), dataset.vocab.max_len, precision)
    trainer = GANTrainer(nets, config, precision)
    pipe = iter(make_pipeline(dataset, PipelineConfig(batch_size=config.batch_size), epoch=0))
    for _ in range(warmup):
        trainer.train_step(next(pipe))
    t0 = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(next(pipe))
    return (time.perf_counter() - t0) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="data/oxford102")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", default="", help="comma list of settings to run: default_bf16,default_fp32,dcgan_fp32")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override for the default")
    args = parser.parse_args()
    dataset = PreparedDataset(args.data)
    base = cfg.with_overrides(cfg.TrainConfig(), dict(kv.split("=", 1) for kv in args.set))
    # built on demand: a dfgan-only --set (model.d_lowres, ...) must not stop the default settings
    settings = {
        "default_bf16": (lambda: base, "mixed_bfloat16"),
        "default_fp32": (lambda: base, "float32"),
        "dcgan_bf16": (lambda: cfg.with_overrides(base, DCGAN_BASELINE), "mixed_bfloat16"),
        "dcgan_fp32": (lambda: cfg.with_overrides(base, DCGAN_BASELINE), "float32"),
    }
    only = [s for s in args.only.split(",") if s] or list(settings)
    steps_per_epoch = len(dataset.train_rows) // base.batch_size
    for name in only:
        make, precision = settings[name]
        config = make()
        sec = time_setting(dataset, config, precision, args.steps, args.warmup)
        print(f"{name}: {sec:.3f} s/step, {config.batch_size / sec:.0f} images/s, "
              f"{sec * steps_per_epoch / 60:.2f} min/epoch ({steps_per_epoch} steps of {config.batch_size})", flush=True)


if __name__ == "__main__":
    main()

"""Throughput of the tf.data training pipeline on the prepared data (images/s). Prints its numbers."""

from __future__ import annotations

import argparse
import time

from gan_core.data.dataset import PipelineConfig, PreparedDataset, make_pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="data/oxford102")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    t0 = time.perf_counter()
    dataset = PreparedDataset(args.data)
    print(f"open dataset: {time.perf_counter() - t0:.2f} s")
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        pipe = make_pipeline(dataset, PipelineConfig(batch_size=args.batch_size), epoch)
        t1 = time.perf_counter()
        n = 0
        for batch in pipe:
            n += int(batch["images"].shape[0])
        dt = time.perf_counter() - t1
        print(f"epoch {epoch}: build {t1 - t0:.2f} s, {n} images in {dt:.2f} s = {n / dt:.0f} images/s")


if __name__ == "__main__":
    main()

"""Scoring speed: 819 competition images with the flowers evaluator, end to end, and the
InceptionV3 evaluator's forward pass (random weights: the shipped checkout has no weights file).

Run: python benchmarks/score_speed.py [--data data/oxford102]. Target: flowers under 15 s.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="data/oxford102")
    parser.add_argument("--inception-images", type=int, default=64, help="images for the InceptionV3 timing")
    args = parser.parse_args()
    import numpy as np  # noqa: F401  (import cost outside the timings)
    import tensorflow as tf  # noqa: F401

    from gan_core.eval.evaluate import baseline_images, evaluate_images
    from gan_core.eval.evaluators.flowers import load_flowers_evaluator
    from gan_core.eval.evaluators.inception import InceptionEvaluator

    images, ids = baseline_images("noise", args.data)
    t0 = time.perf_counter()
    evaluator = load_flowers_evaluator()
    t_load = time.perf_counter() - t0
    result = evaluate_images(images, ids, args.data, evaluator=evaluator)
    total = time.perf_counter() - t0
    print(f"flowers: {len(images)} images scored end to end in {total:.2f} s "
          f"(model load {t_load:.2f} s, predict {result['seconds_predict']:.2f} s, all metrics {result['seconds']:.2f} s)")
    t0 = time.perf_counter()
    predict = evaluator.predict(images)
    print(f"flowers: predict only, {len(images)} images: {time.perf_counter() - t0:.2f} s "
          f"({predict[1].shape[1]}-d features)")

    t0 = time.perf_counter()
    inception = InceptionEvaluator(untrained=True)
    t_load = time.perf_counter() - t0
    batch = images[: args.inception_images]
    inception.predict(batch[:2])  # trace once
    t0 = time.perf_counter()
    inception.predict(batch)
    seconds = time.perf_counter() - t0
    print(f"inception (weights=None): build {t_load:.2f} s; forward {len(batch)} images {seconds:.2f} s "
          f"-> about {seconds / len(batch) * len(images):.0f} s for {len(images)}")


if __name__ == "__main__":
    main()

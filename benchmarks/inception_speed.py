"""Realism metrics speed: (a) first call with an empty cache: the reference features of 3000
training images, then 819 generated-like images (the real test images stand in) and the metrics;
(b) second call with the reference cached: 819 images and the metrics.

The prepared files are read through a small view whose root is a temporary folder, so the
reference cache starts empty and the dataset's own cache is left alone.

Run: python benchmarks/inception_speed.py [--data data/oxford102] [--threads N].
Target: (b) under 3 minutes on the 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


class PreparedFilesView:
    """What realism.reference_set reads of a prepared dataset, with the cache under `root`."""

    def __init__(self, data: Path, root: Path):
        self.data, self.root = data, root
        self.manifest = json.loads((data / "manifest.json").read_text())
        split = pd.read_csv(data / "images.csv")["split"]
        self.train_rows = split.index[split == "train"].to_numpy()
        self.test_rows = split.index[split == "test"].to_numpy()

    def images(self, size: int) -> np.ndarray:
        return np.load(self.data / f"images_{size}.npy", mmap_mode="r")


def printer(label: str):
    marks = set()

    def progress(fraction: float, message: str) -> None:
        mark = int(fraction * 4)  # a line per quarter
        if mark not in marks:
            marks.add(mark)
            print(f"  {label}: {message}", flush=True)
    return progress


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="data/oxford102")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: all cores)")
    parser.add_argument("--reference-count", type=int, default=3000, help="reference images (quick checks: fewer)")
    parser.add_argument("--fake-count", type=int, default=819, help="generated-like images (test images)")
    args = parser.parse_args()
    from gan_core.eval import realism
    from gan_core.eval.evaluators.inception_fid import InceptionFeatures

    t0 = time.perf_counter()
    extractor = InceptionFeatures(threads=args.threads)
    import torch

    print(f"network loaded in {time.perf_counter() - t0:.1f} s; torch threads {torch.get_num_threads()}; "
          f"{extractor.identity}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        view = PreparedFilesView(Path(args.data), Path(tmp))
        fake_images = np.asarray(view.images(64)[view.test_rows[:args.fake_count]])
        timings = []
        for label in ("first call (empty cache)", "second call (cached reference)"):
            t1 = time.perf_counter()
            reference = realism.reference_set(view, extractor, count=args.reference_count,
                                              progress=printer("reference"))
            t2 = time.perf_counter()
            fake = extractor.features(fake_images, progress=printer("generated"))
            t3 = time.perf_counter()
            metrics = realism.realism_metrics(fake_images, fake, reference)
            t4 = time.perf_counter()
            timings.append((label, t1, t2, t3, t4))
            print(f"{label}: {t4 - t1:.1f} s = reference {t2 - t1:.1f} s + {len(fake)} images {t3 - t2:.1f} s "
                  f"({len(fake) / (t3 - t2):.2f} images/s) + metrics {t4 - t3:.1f} s", flush=True)
        label, t1, t2, _, _ = timings[0]
        print(f"reference features: {args.reference_count} images in {t2 - t1:.1f} s "
              f"({args.reference_count / (t2 - t1):.2f} images/s)")
    print("metrics of the real test images against the reference:",
          json.dumps({k: round(v, 5) if isinstance(v, float) else v for k, v in metrics.items()}))


if __name__ == "__main__":
    main()

"""Time to load a snapshot and generate the 819 competition test images (in memory and to files)."""

from __future__ import annotations

import argparse
import tempfile
import time

from gan_core.sample.inference import generate_competition, read_test_captions
from gan_core.sample.sampler import Sampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", default="checkpoints/default")
    parser.add_argument("--test-captions", default="data/oxford102/test_captions.csv")
    args = parser.parse_args()
    rows = read_test_captions(args.test_captions)
    t0 = time.perf_counter()
    gen = Sampler.load(args.checkpoint)
    t1 = time.perf_counter()
    gen.generate([c for _, c in rows], [i for i, _ in rows])
    t2 = time.perf_counter()
    gen.generate([c for _, c in rows], [i for i, _ in rows])
    t3 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        generate_competition(gen, rows, tmp)
    t4 = time.perf_counter()
    grid_t = time.perf_counter()
    gen.grid([c for _, c in rows[:5]], [0, 1, 2, 3, 4])
    grid_t = time.perf_counter() - grid_t
    print(f"load snapshot {t1 - t0:.2f} s; generate {len(rows)} images: first {t2 - t1:.2f} s, warm {t3 - t2:.2f} s; "
          f"to JPEG files {t4 - t3:.2f} s; warm 5x5 grid {grid_t:.3f} s")


if __name__ == "__main__":
    main()

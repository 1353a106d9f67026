"""Time the projector, a coverage pass and the GANSpace fit, and write the component atlas.

    python benchmarks/projector_speed.py [--checkpoint checkpoints/default/snapshots/epoch_0270]
        [--data data/oxford102] [--per-class 3] [--skip-coverage] [--atlas atlas.png]

Targets (2-core CPU, shared with a training run at nice 19 when one is going: say so with the
numbers): one 200-step projection under 30 s; a coverage pass over ~300 test images under 10 min.
The snapshot is copied to a temporary folder first, so the caches (coverage_*, directions_*) land
there and not in the checkpoint. The atlas: the top components at -2, 0 and +2 sigma for 5
captions (seed 0), one PNG.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import timing

ROOT = Path(__file__).resolve().parents[1]
timed = functools.partial(timing.timed, width=60, digits=1)  # this script's columns
ATLAS_CAPTIONS = ["this flower has white petals and a bright yellow center",
                  "this flower has large red petals with a dark center",
                  "a purple flower with many thin pointed petals",
                  "this flower is pink with ruffled petals and yellow stamens",
                  "an orange flower with long curled back petals and dark spots"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "default" / "snapshots" / "epoch_0270"))
    parser.add_argument("--data", default=str(ROOT / "data" / "oxford102"))
    parser.add_argument("--per-class", type=int, default=3)
    parser.add_argument("--skip-coverage", action="store_true")
    parser.add_argument("--atlas", default="", help="write the component atlas PNG here")
    parser.add_argument("--components", type=int, default=6, help="atlas rows")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    import numpy as np

    from gan_core.data.dataset import PreparedDataset
    from gan_core.eval.evaluators import get_evaluator
    from gan_core.explore import coverage, directions
    from gan_core.explore.projector import ProjectorConfig, project
    from gan_core.sample.image_grid import compose_grid, to_png
    from gan_core.sample.sampler import Sampler

    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
          f"(a training run at nice 19 counts here)")
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = Path(tmp) / Path(args.checkpoint).name
        shutil.copytree(args.checkpoint, snapshot)
        sampler = timed("load the snapshot", lambda: Sampler.load(snapshot))
        dataset = PreparedDataset(args.data)
        row = int(dataset.test_rows[0])
        target = np.asarray(dataset.images(64))[[row]]
        caption = dataset.test_caption(int(dataset.image_table.loc[row, "test_id"]))
        timed("one projection, 200 steps (first call: includes tracing)",
              lambda: project(sampler, [caption], target, ProjectorConfig(steps=200)))
        out = timed("one projection, 200 steps (again)", lambda: project(sampler, [caption], target,
                                                                          ProjectorConfig(steps=200)))
        print(f"  loss {out.losses[0]:.3f} -> {out.losses[-1]:.3f}, {out.feature_net} features")
        if not args.skip_coverage:
            evaluator = get_evaluator("flowers")
            result = timed(f"coverage pass, {args.per_class} test images per class, "
                           f"{coverage.COVERAGE_STEPS} steps",
                           lambda: coverage.measure(sampler, dataset, evaluator, args.per_class))
            print(f"  {result['summary']['images']} images, reachable {result['summary']['reachable']:.1%}")
        found = timed("GANSpace fit: 2000 z over 5 captions, 10 components",
                      lambda: directions.fit(sampler, ATLAS_CAPTIONS, k=10, samples=2000))
        print("  explained variance share: " + ", ".join(f"{v:.3f}" for v in found.explained))
        grid = timed("atlas", lambda: directions.atlas(sampler, found, ATLAS_CAPTIONS, k=args.components))
        if args.atlas:
            columns = [f"caption {c + 1}: {a:+g} sigma" for c in range(len(ATLAS_CAPTIONS)) for a in (-2, 0, 2)]
            rows = [f"component {k + 1} ({found.explained[k]:.1%} of variance)" for k in range(len(grid))]
            Path(args.atlas).write_bytes(to_png(compose_grid(grid, rows, columns, scale=1, label_width=150)))
            print(f"wrote {args.atlas}: captions {ATLAS_CAPTIONS}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

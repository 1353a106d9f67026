"""Time the gan_core calls behind the dashboard pages, cold and warm, and print the numbers.

    python benchmarks/dashboard_speed.py [--checkpoint checkpoints/default] [--data data/oxford102]

The snapshot is copied to a temporary folder first, so the caches the pages write next to a
snapshot (umap_*.npz) land there and not in the checkpoint. Targets (2-core CPU): a warm 5x5
report grid under 1 s, switching snapshot under 2 s, the UMAP of ~8000 captions computed once.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import timing

ROOT = Path(__file__).resolve().parents[1]
timed = functools.partial(timing.timed, width=58)  # this script's columns


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = ROOT / "checkpoints" / "default"
    parser.add_argument("--checkpoint", default=str(default if default.exists() else ROOT / "runs" / "default"),
                        help="snapshot or run dir (its latest snapshot)")
    parser.add_argument("--data", default=str(ROOT / "data" / "oxford102"))
    parser.add_argument("--train-captions", type=int, default=7000, help="training captions in the UMAP")
    parser.add_argument("--skip-umap", action="store_true")
    args = parser.parse_args()

    from gan_core import UserError
    from gan_core.sample.snapshot import list_snapshots, resolve_checkpoint

    try:
        snapshot = resolve_checkpoint(args.checkpoint)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    siblings = list_snapshots(snapshot.parent.parent)
    other = next((s for s in reversed(siblings) if s != snapshot), snapshot)
    rows: list = []
    with tempfile.TemporaryDirectory() as tmp:
        copies = []
        for source in (snapshot, other):
            target = Path(tmp) / source.parent.parent.name / "snapshots" / source.name
            if not target.exists():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("umap_*", "diversity_*", "scores_*"))
            copies.append(target)
        print(f"snapshot {snapshot} (switch to {other.name}); data {args.data}\n")
        warnings.simplefilter("ignore")

        timed("import tensorflow (once per server)", lambda: __import__("tensorflow"), rows)
        from gan_core.explore.report_grid import REPORT_IDS
        from gan_core.explore.runs import list_runs, summarize_run
        from gan_core.sample.image_grid import compose_grid, to_png
        from gan_core.sample.sampler import Sampler

        generator = timed("load snapshot (cold: build + weights + trace)", lambda: Sampler.load(copies[0]), rows)
        captions = ["this flower has white petals and a yellow center"] * 5
        try:
            from gan_core.data.dataset import PreparedDataset

            dataset = timed("open prepared data set", lambda: PreparedDataset(args.data), rows)
            captions = [dataset.test_caption(i) for i in REPORT_IDS]
        except UserError as exc:
            dataset = None
            print(f"(no data set: {exc}; free captions instead)")
        flat_captions = [c for c in captions for _ in range(5)]
        seeds = [s for _ in range(5) for s in range(5)]
        timed("5x5 report grid, first call (cold)", lambda: generator.generate(flat_captions, seeds), rows)
        images = timed("5x5 report grid, warm", lambda: generator.generate(flat_captions, seeds), rows)
        timed("5x5 grid PNG (compose_grid + to_png)",
              lambda: to_png(compose_grid(images.reshape(5, 5, 64, 64, 3), captions, [f"seed {s}" for s in range(5)])),
              rows)
        timed("8 images of one caption, warm", lambda: generator.generate(captions[:1] * 8, list(range(8))), rows)
        timed("slerp strip of 8, warm", lambda: generator.interpolate_noise(captions[0], 0, 1, 8), rows)
        switched = timed("switch snapshot, new Generator (build + weights)", lambda: Sampler.load(copies[1]), rows)
        timed("  + its first 5x5 grid (tracing)", lambda: switched.generate(flat_captions, seeds), rows)
        from gan_core.sample.snapshot import load_weights_into

        timed("switch snapshot as the dashboard does (assign weights)", lambda: load_weights_into(
            copies[1], generator.networks.text_encoder, generator.networks.generator), rows)
        timed("  + its first 5x5 grid (already traced)", lambda: generator.generate(flat_captions, seeds), rows)
        checkpoints = ROOT / "checkpoints"
        if checkpoints.is_dir():
            timed("list + summarize runs under checkpoints/",
                  lambda: [summarize_run(r) for r in list_runs(checkpoints)], rows)

        if dataset is not None and not args.skip_umap:
            from gan_core.explore.embeddings import cached_projection, caption_table

            table = timed(f"caption table (test + {args.train_captions} train)",
                          lambda: caption_table(dataset, train_sample=args.train_captions), rows)
            encode = lambda c: generator.encode(c).embeddings  # noqa: E731
            captions_all = list(table["caption"])
            timed(f"UMAP of {len(captions_all)} captions (cold: encode + fit)",
                  lambda: cached_projection(copies[0], captions_all, encode), rows)
            timed(f"UMAP of {len(captions_all)} captions (warm: from disk)",
                  lambda: cached_projection(copies[0], captions_all, encode), rows)
    print("\ntargets: warm 5x5 grid < 1 s, snapshot switch < 2 s (dashboard: assign weights + grid)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time the per-caption table (gan_core.eval.per_caption) cold and warm, and the Test captions page's
first draw from a warm cache, and print the numbers.

    python benchmarks/per_caption_speed.py [--checkpoint checkpoints/default] [--data data/oxford102]

The snapshot and the one before it are copied to a temporary checkpoints root first (weights only),
so the per_caption_*.npz caches land there and not in the checkpoint. Targets (2-core CPU): a table
costs one generation of the 819 test images plus one evaluator pass, a few seconds warm; the page's
first draw with both tables cached under 2 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

from timing import timed

ROOT = Path(__file__).resolve().parents[1]


def page_draws(checkpoints: Path, data: str, rows: list) -> None:
    """The page in streamlit's AppTest (in this process): the app's first run, then the page."""
    from streamlit.testing.v1 import AppTest

    os.environ["GAN_CHECKPOINTS"], os.environ["GAN_DATA"] = str(checkpoints), data
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=600)
    timed("app start (Checkpoints page, imports)", at.run, rows)
    timed("Test captions: first draw, tables cached on disk", lambda: at.switch_page("views/test_captions.py").run(),
          rows)
    timed("Test captions: rerun (a widget change)", at.run, rows)
    at.multiselect(key="tc_colours").set_value(["red"])
    timed("Test captions: filter by a colour word", at.run, rows)
    if at.exception:
        print("the page raised:", [e.value for e in at.exception], file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "default"), help="snapshot or run dir")
    parser.add_argument("--data", default=str(ROOT / "data" / "oxford102"))
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from gan_core.cli import quiet_tensorflow

    quiet_tensorflow()
    rows: list = []
    from gan_core.sample.snapshot import list_snapshots, resolve_checkpoint

    snapshot = resolve_checkpoint(args.checkpoint)
    siblings = list_snapshots(snapshot.parent.parent)
    before = siblings[max(siblings.index(snapshot) - 1, 0)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "checkpoints"
        run = root / snapshot.parent.parent.name
        for name in ("config.json", "vocab.json"):
            if (snapshot.parent.parent / name).is_file():
                run.mkdir(parents=True, exist_ok=True)
                shutil.copy(snapshot.parent.parent / name, run / name)
        copies = []
        for source in (before, snapshot):
            target = run / "snapshots" / source.name
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("umap_*", "diversity_*", "per_caption_*"))
            copies.append(target)
        print(f"snapshot {snapshot} (and {before.name}); data {args.data}\n")

        from gan_core.data.dataset import PreparedDataset
        from gan_core.eval.evaluators import get_evaluator
        from gan_core.eval.neighbours import feature_bank
        from gan_core.eval.per_caption import Source, cached_per_caption, compute_table, per_caption, source_images
        from gan_core.sample.sampler import Sampler

        dataset = PreparedDataset(args.data)
        evaluator = timed("load the flowers evaluator", lambda: get_evaluator("flowers"), rows)
        timed("evaluator features of every real image (cached in the data set)",
              lambda: feature_bank(dataset, evaluator), rows)
        a = Source.parse(copies[1])
        timed("cold: per_caption (snapshot load + generate + evaluator), cached",
              lambda: per_caption(a, args.data, evaluator), rows)
        sampler = Sampler.load(a.path, warn_unknown=False)
        images, ids = timed("warm: generate the 819 test images (JPEG round trip)",
                            lambda: source_images(a, dataset, sampler.generate), rows)
        bank = feature_bank(dataset, evaluator)
        timed("warm: evaluator pass + table", lambda: compute_table(images, ids, dataset, evaluator, bank), rows)
        timed("warm: per_caption without the cache (both)",
              lambda: per_caption(a, args.data, evaluator, use_cache=False, generate=sampler.generate), rows)
        timed("cached: read the table and images (no model)",
              lambda: cached_per_caption(a, dataset, evaluator.identity), rows)
        per_caption(Source.parse(copies[0]), args.data, evaluator)  # B for the page
        page_draws(root, args.data, rows)
    print(f"\n{os.cpu_count()} CPU(s); numbers vary with other load on the machine")
    return 0


if __name__ == "__main__":
    sys.exit(main())

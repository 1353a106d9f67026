"""Prepare Oxford-102 images and captions for training: see `--help` and gan_core/prepare.py."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from gan_core.cli import entry_point  # noqa: E402
from gan_core.prepare import PrepareConfig, prepare  # noqa: E402


@entry_point()
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", required=True, help="folder with jpg/ (or 102flowers/, images_*/) and text_c10/")
    parser.add_argument("--out", default="data/oxford102", help="prepared dataset folder (default data/oxford102)")
    parser.add_argument("--split", help="split CSV with image_id,split columns (train/test)")
    parser.add_argument("--competition", metavar="DIR",
                        help="competition folder with testData.pkl and dictionary/; these are pickles, which "
                             "execute code when read: pass only files you trust")
    parser.add_argument("--sizes", default="64,76", help="stored image sizes (default 64,76)")
    parser.add_argument("--min-count", type=int, default=2, help="min training occurrences for a word (default 2)")
    parser.add_argument("--max-len", type=int, default=20, help="tokens per caption (default 20)")
    parser.add_argument("--force", action="store_true", help="rebuild even when the output is up to date")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        sizes = tuple(int(s) for s in args.sizes.split(","))
        if not sizes or min(sizes) < 8:
            raise ValueError
    except ValueError:
        print(f"error: --sizes must be comma-separated integers >= 8, got {args.sizes!r}", file=sys.stderr)
        return 2
    config = PrepareConfig(sizes=sizes, min_count=args.min_count, max_len=args.max_len,
                           split_csv=args.split, competition_dir=args.competition)
    summary = prepare(args.source, args.out, config, progress=not args.quiet, force=args.force)
    print(f"{'up to date' if summary.up_to_date else 'prepared'}: {args.out}")
    for line in summary.lines():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

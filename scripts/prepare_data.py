"""Prepare Oxford-102 images and captions for training: see `--help` and gan_core/prepare.py."""

from __future__ import annotations

import sys
from pathlib import Path

from gan_core.cli import entry_point, script_parser
from gan_core.data.prepare import PrepareConfig, prepare


def default_split(source: Path, split: str | None, competition: str | None) -> tuple[str | None, list[str]]:
    """The split file to use and what to tell the user: an explicit --split/--competition wins; else the
    source's own split.csv (the competition split in the official layout); else the stratified fallback.
    A competition/testData.pkl is never read unasked: unpickling executes code from the file."""
    if split or competition:
        return split, []
    notes = []
    found = source / "split.csv"
    if found.is_file():
        notes.append(f"split: {found} (found in the source; --split or --competition chooses another)")
    pickle = source / "competition" / "testData.pkl"
    if pickle.is_file():
        notes.append(f"note: {pickle} holds the competition's test captions; pass --competition {pickle.parent} "
                     f"to use them (a pickle: it executes code when read, so only a file you trust)")
    if not found.is_file():
        notes.append("split: none given or found; every 10th image of each class is test (stratified fallback)")
        return None, notes
    return str(found), notes


@entry_point()
def main(argv=None) -> int:
    parser = script_parser(__doc__)
    parser.add_argument("--source", required=True, help="folder with jpg/ (or 102flowers/, images_*/) and text_c10/")
    parser.add_argument("--out", default="data/oxford102", help="prepared dataset folder (default data/oxford102)")
    parser.add_argument("--split", help="split CSV with image_id,split columns (train/test); default: the "
                                        "source's split.csv when it has one")
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
    split_csv, notes = default_split(Path(args.source), args.split, args.competition)
    for note in notes:
        print(note)
    config = PrepareConfig(sizes=sizes, min_count=args.min_count, max_len=args.max_len,
                           split_csv=split_csv, competition_dir=args.competition)
    summary = prepare(args.source, args.out, config, progress=not args.quiet, force=args.force)
    print(f"{'up to date' if summary.up_to_date else 'prepared'}: {args.out}")
    for line in summary.lines():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

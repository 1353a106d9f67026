"""The report's grid: test captions (by ID) and free captions x noise seeds, from one snapshot.

Writes OUT (PNG) and, next to it, OUT.csv (one line per tile: row, column, id, caption, seed, psi, N)
and OUT.md (the same as a table), enough to rebuild the grid exactly. Files are written atomically.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gan_core import UserError
from gan_core.cli import entry_point, script_parser
from gan_core.explore.report_grid import REPORT_IDS, REPORT_SEEDS


@entry_point(interrupted="interrupted: the grid PNG, CSV and MD may not all be written")
def main(argv=None) -> int:
    parser = script_parser(__doc__, raw=True)
    parser.add_argument("--checkpoint", required=True, help="a snapshot dir, or a run dir (its latest snapshot)")
    parser.add_argument("--ids", default=",".join(map(str, REPORT_IDS)),
                        help="test IDs whose captions make the first rows ('' for none; default: the report's)")
    parser.add_argument("--seeds", default=",".join(map(str, REPORT_SEEDS)), help="noise seeds, one per column")
    parser.add_argument("--caption", action="append", default=[], help="a free caption row (repeatable)")
    parser.add_argument("--captions-file", help="more free caption rows, one per line")
    parser.add_argument("--truncation", type=float, default=1.0, metavar="PSI",
                        help="truncation psi in (0, 1] (default 1: noise as drawn); recorded in the CSV and MD")
    parser.add_argument("--best-of", type=int, default=1, metavar="N",
                        help="best-of-N: per image, N candidates ranked by the GAN's own discriminator (needs a "
                             "snapshot that holds it; default 1: plain generation); recorded in the CSV and MD")
    parser.add_argument("--data", default="data/oxford102", help="prepared dataset (test captions)")
    parser.add_argument("--out", required=True, help="grid PNG; OUT.csv and OUT.md are written next to it")
    args = parser.parse_args(argv)
    from gan_core import atomic
    from gan_core.cli import parse_int_list
    from gan_core.data.dataset import PreparedDataset
    from gan_core.data.text import normalize
    from gan_core.explore.report_grid import grid_rows, render_grid, tiles_csv, tiles_markdown
    from gan_core.sample.image_grid import to_png
    from gan_core.sample.inference import read_captions_file
    from gan_core.sample.sampler import Sampler, check_best_of, check_truncation
    from gan_core.sample.snapshot import resolve_checkpoint

    psi, best_of = check_truncation(args.truncation), check_best_of(args.best_of)
    ids = parse_int_list(args.ids, "--ids") if args.ids.strip() else []
    seeds = parse_int_list(args.seeds, "--seeds")
    captions = list(args.caption) + (read_captions_file(args.captions_file) if args.captions_file else [])
    for caption in args.caption:
        if not normalize(caption):
            raise UserError(f"--caption {caption!r} is empty or has no letters/digits")
    snapshot = resolve_checkpoint(args.checkpoint)  # before the slow model import: errors fail fast
    rows = grid_rows(PreparedDataset(args.data), ids, captions)
    generator = Sampler.load(snapshot, warn_unknown=False)
    generator.require_ranking(best_of)  # fail before any image is rendered
    image, _ = render_grid(generator, rows, seeds, psi, best_of)
    out = Path(args.out)
    atomic.write_bytes(out, to_png(image))
    atomic.write_text(out.with_suffix(".csv"), tiles_csv(rows, seeds, psi, best_of))
    atomic.write_text(out.with_suffix(".md"), tiles_markdown(rows, seeds, str(generator.path), psi, best_of))
    print(f"wrote {out} ({len(rows)} rows x {len(seeds)} seeds, snapshot {generator.path}, epoch {generator.epoch}) "
          f"and {out.with_suffix('.csv').name}, {out.with_suffix('.md').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

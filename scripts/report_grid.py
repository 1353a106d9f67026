"""The report's grid: test captions (by ID) and free captions x noise seeds, from one snapshot.

Writes OUT (PNG) and, next to it, OUT.csv (one line per cell: row, column, test_id, caption, seed,
locked, evaluator_picked, latent, truncation psi, best_of N) and OUT.md (the same as a table), enough
to rebuild the grid exactly. `--grid FILE` rebuilds a saved grid instead, per-cell seeds included:
the dashboard's JSON state or CSV, or an OUT.csv of this script; the PNG is pixel for pixel the
dashboard's. Files are written atomically.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gan_core import UserError
from gan_core.cli import entry_point, script_parser
from gan_core.explore.report_grid import REPORT_IDS, REPORT_SEEDS


def _state_from_arguments(args):
    """A GridState for --ids, --caption(s) and --seeds (one seed per column), with psi and N."""
    from gan_core.cli import parse_int_list
    from gan_core.data.text import normalize
    from gan_core.explore.grid_state import Cell, GridState
    from gan_core.sample.inference import read_captions_file
    from gan_core.sample.sampler import check_best_of, check_truncation

    psi, best_of = check_truncation(args.truncation), check_best_of(args.best_of)
    ids = parse_int_list(args.ids, "--ids") if args.ids.strip() else []
    seeds = parse_int_list(args.seeds, "--seeds")
    captions = list(args.caption) + (read_captions_file(args.captions_file) if args.captions_file else [])
    for caption in args.caption:
        if not normalize(caption):
            raise UserError(f"--caption {caption!r} is empty or has no letters/digits")
    if not ids and not captions:
        raise UserError("the grid needs at least one test ID or caption")
    if any(c.strip().isdigit() for c in captions):
        raise UserError("a free caption cannot be only digits (that is a test ID: use --ids)")
    texts = [str(i) for i in ids] + [c.strip() for c in captions]
    return GridState(texts, [[Cell(s, psi, best_of) for s in seeds] for _ in texts], [False] * len(seeds), psi,
                     best_of)


@entry_point(interrupted="interrupted: the grid PNG, CSV and MD may not all be written")
def main(argv=None) -> int:
    parser = script_parser(__doc__, raw=True)
    parser.add_argument("--checkpoint", required=True, help="a snapshot dir, or a run dir (its latest snapshot)")
    parser.add_argument("--grid", metavar="FILE",
                        help="rebuild a saved grid (the dashboard's JSON or CSV, or an OUT.csv); replaces --ids, "
                             "--seeds, --caption(s), --truncation and --best-of")
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
    parser.add_argument("--real-column", action="store_true",
                        help="add the real test image as a last column (test-ID rows; on by itself for a saved "
                             "grid that has it)")
    parser.add_argument("--data", default="data/oxford102", help="prepared dataset (test captions)")
    parser.add_argument("--out", required=True, help="grid PNG; OUT.csv and OUT.md are written next to it")
    args = parser.parse_args(argv)
    from gan_core import atomic
    from gan_core.data.dataset import PreparedDataset
    from gan_core.explore.report_grid import (
        compose_report,
        read_grid_file,
        real_images,
        render_cells,
        resolve_rows,
        tiles_csv,
        tiles_markdown,
    )
    from gan_core.outputs import check_output_file
    from gan_core.sample.image_grid import to_png
    from gan_core.sample.sampler import Sampler
    from gan_core.sample.snapshot import resolve_checkpoint

    state = read_grid_file(args.grid) if args.grid else _state_from_arguments(args)
    out = Path(args.out)
    for path in (out, out.with_suffix(".csv"), out.with_suffix(".md")):
        check_output_file(path, "the grid")
    if args.grid and Path(args.grid).resolve() in {p.resolve() for p in (out, out.with_suffix(".csv"),
                                                                         out.with_suffix(".md"))}:
        raise UserError(f"--out {out} would overwrite the grid file it rebuilds ({args.grid}): choose another --out")
    snapshot = resolve_checkpoint(args.checkpoint)  # before the slow model import: errors fail fast
    dataset = PreparedDataset(args.data)
    rows = resolve_rows(state, dataset.test_caption)
    bad = [f"row {r + 1}: {row}" for r, row in enumerate(rows) if isinstance(row, UserError)]
    if bad:
        raise UserError("; ".join(bad))
    generator = Sampler.load(snapshot, warn_unknown=False)
    generator.require_ranking(max(cell.best_of for row in state.cells for cell in row))  # before any rendering
    images = render_cells(generator, state, rows)
    real = real_images(dataset, rows) if (args.real_column or state.real_column) else None
    image = compose_report(state, rows, images, real)
    atomic.write_bytes(out, to_png(image))
    atomic.write_text(out.with_suffix(".csv"), tiles_csv(state, rows))
    atomic.write_text(out.with_suffix(".md"), tiles_markdown(state, rows, str(generator.path)))
    print(f"wrote {out} ({len(rows)} rows x {state.shape[1]} columns, snapshot {generator.path}, epoch "
          f"{generator.epoch}) and {out.with_suffix('.csv').name}, {out.with_suffix('.md').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

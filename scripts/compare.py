"""Compare two sources caption by caption: a snapshot or a folder of inference images each.

    python scripts/compare.py checkpoints/default/snapshots/epoch_0270 checkpoints/default/snapshots/epoch_0120
    python scripts/compare.py checkpoints/default inference/ --out comparisons/mine

Prints wins, losses and ties of A against B on the per-image competition term (lower is better),
the worst classes and the largest gaps, and writes to --out (a folder this command made, or a new
or empty one): comparison.csv (one row per test caption), per_class.csv, contact_sheet.png (the
worst captions of A: caption, real image, A, B) and comparison.json (the summary). A snapshot's
per-caption table is cached next to it (per_caption_*.npz); a folder is only read.
"""

from __future__ import annotations

import sys

from gan_core.cli import entry_point, script_parser

FORMAT = "gan_core.comparison/1"
MARKER = "comparison.json"


@entry_point()
def main(argv=None) -> int:
    parser = script_parser(__doc__, raw=True)
    parser.add_argument("a", metavar="A", help="snapshot, run dir (its latest snapshot) or folder of inference images")
    parser.add_argument("b", metavar="B", help="the other source, named the same way")
    parser.add_argument("--data", default="data/oxford102", help="prepared dataset (test images and captions)")
    parser.add_argument("--out", default="comparison", help="output folder (default: comparison)")
    parser.add_argument("--seed", type=int, default=0, help="competition seed of a snapshot A (and B unless --seed-b)")
    parser.add_argument("--seed-b", type=int, default=None, help="competition seed of a snapshot B")
    parser.add_argument("--truncation", type=float, default=1.0, metavar="PSI", help="psi of snapshot sources")
    parser.add_argument("--best-of", type=int, default=1, metavar="N", help="best-of-N of snapshot sources")
    parser.add_argument("--sheet", type=int, default=25, metavar="N", help="captions on the contact sheet (default 25)")
    parser.add_argument("--no-cache", action="store_true", help="recompute snapshot tables even if cached")
    args = parser.parse_args(argv)
    from gan_core import UserError, atomic
    from gan_core.cli import check_seed
    from gan_core.data.dataset import PreparedDataset
    from gan_core.eval import compare as comparing
    from gan_core.eval.per_caption import Source, per_caption, write_csv
    from gan_core.outputs import check_output_folder, stored_format
    from gan_core.sample.sampler import check_best_of, check_truncation

    check_seed(args.seed)
    seed_b = check_seed(args.seed if args.seed_b is None else args.seed_b, "--seed-b")
    psi, best_of = check_truncation(args.truncation), check_best_of(args.best_of)
    if not 1 <= args.sheet <= 200:
        raise UserError(f"--sheet must be from 1 to 200, got {args.sheet}")
    a = Source.parse(args.a, args.seed, psi, best_of)
    b = Source.parse(args.b, seed_b, psi, best_of)
    owned = lambda path: stored_format(path, MARKER) == FORMAT
    check_output_folder(args.out, "--out", owned, f"a comparison folder ({MARKER})", inputs=[args.a, args.b, args.data])
    dataset = PreparedDataset(args.data)
    from gan_core.eval.evaluators import get_evaluator

    evaluator = get_evaluator("flowers")
    result_a = per_caption(a, args.data, evaluator, use_cache=not args.no_cache)
    result_b = per_caption(b, args.data, evaluator, use_cache=not args.no_cache)
    comparison = comparing.compare(result_a.table, result_b.table, label_a=a.label, label_b=b.label)
    with atomic.atomic_dir(args.out, owned) as tmp:
        write_csv(comparing.worst_first(comparison.table), tmp / "comparison.csv")
        write_csv(comparing.per_class(comparison), tmp / "per_class.csv")
        atomic.write_bytes(tmp / "contact_sheet.png", comparing.sheet_png(comparison, result_a, result_b, dataset,
                                                                         args.sheet))
        atomic.write_json(tmp / MARKER, {"format": FORMAT, "a": str(a.path), "b": str(b.path),
                                         "score_a": result_a.summary, "score_b": result_b.summary,
                                         **comparison.summary})
    print("\n".join(comparing.summary_lines(comparison)))
    print(f"score               A {result_a.summary['score']:.4f}   B {result_b.summary['score']:.4f}")
    print(f"-> {args.out}/ (comparison.csv, per_class.csv, contact_sheet.png, {MARKER})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Score a run's snapshots and name the one that the shipped-snapshot rule picks.

    python scripts/score_run.py runs/long2/combo --out results/long2/combo --every 20
    python scripts/score_run.py runs/long2/combo --out results/long2/combo --epochs 40,45,50

Each snapshot is scored as `scripts/evaluate.py --checkpoint` scores it (the 819 test captions at
seed 0, the shipped flowers evaluator) with the Inception realism numbers, which the rule needs: a
machine without the Inception network is refused rather than skipped. Results go atomically to
OUT/epoch_NNNN.json; OUT is a new folder or one that this command made for the same run
(OUT/score_run.json names it). A rerun scores only what is missing or stale (another snapshot's
weights, other sampling, no Inception-FID), so an interrupted command resumes; the Inception network
loads once for all snapshots.

Then it prints the curve (every result in OUT, oldest first) and the snapshot that the rule picks
(gan_core.eval.snapshot_rule): the lowest Inception-FID against the training reference; of those within
--tolerance of it, the latest. --no-score only prints.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gan_core import UserError
from gan_core.cli import entry_point, parse_int_list, script_parser


def pick_snapshots(by_epoch: dict[int, Path], epochs: list[int] | None, every: int | None) -> dict[int, Path]:
    """The run's snapshots to score: the listed epochs (each must exist), every N-th epoch plus the
    last, or all."""
    if epochs is not None:
        missing = [e for e in epochs if e not in by_epoch]
        if missing:
            have = ", ".join(str(e) for e in sorted(by_epoch))
            raise UserError(f"no snapshot for epoch {', '.join(map(str, missing))} (the run has: {have})")
        return {e: by_epoch[e] for e in sorted(set(epochs))}
    last = max(by_epoch)
    return {e: p for e, p in sorted(by_epoch.items()) if every is None or e % every == 0 or e == last}


@entry_point()
def main(argv=None) -> int:
    parser = script_parser(__doc__, raw=True)
    parser.add_argument("run_dir", help="run folder (its snapshots/ are scored)")
    parser.add_argument("--out", required=True, help="folder of the results, one epoch_NNNN.json per snapshot")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--epochs", help="comma-separated epochs to score (default: every snapshot)")
    which.add_argument("--every", type=int, metavar="N", help="score every N-th epoch's snapshot and the last")
    parser.add_argument("--data", default="data/oxford102", help="prepared dataset (test captions, reference set)")
    parser.add_argument("--tolerance", type=float, default=None, metavar="FID",
                        help="snapshots within this Inception-FID of the lowest count as tied; the latest of them "
                             "is picked (default 1.0, the rule fixed in docs/experiments.md)")
    parser.add_argument("--no-score", action="store_true", help="only print the curve and the pick from OUT")
    args = parser.parse_args(argv)
    from gan_core import atomic
    from gan_core.eval import run_curve
    from gan_core.eval.results_table import CURVE_KEYS, markdown_table
    from gan_core.eval.snapshot_rule import TOLERANCE, check_tolerance, choose_snapshot
    from gan_core.outputs import check_writable_folder
    from gan_core.sample.snapshot import list_snapshots, snapshot_epoch

    tolerance = check_tolerance(TOLERANCE if args.tolerance is None else args.tolerance)
    if args.no_score and (args.epochs is not None or args.every is not None):
        raise UserError("--no-score scores nothing: leave out --epochs and --every")
    if args.every is not None and args.every < 1:
        raise UserError("--every must be at least 1")
    if not Path(args.run_dir).is_dir():
        raise UserError(f"run folder {args.run_dir} not found")
    by_epoch = {snapshot_epoch(p.name): p for p in list_snapshots(args.run_dir)}
    if not by_epoch:
        raise UserError(f"{args.run_dir} has no snapshots")
    out = Path(args.out)
    run_curve.check_folder(out, args.run_dir)
    results = run_curve.read_results(out)
    epochs = parse_int_list(args.epochs, "--epochs", maximum=10**6) if args.epochs is not None else None
    selected = {} if args.no_score else pick_snapshots(by_epoch, epochs, args.every)
    weights = {e: run_curve.weights_identity(by_epoch[e]) for e in set(results) | set(selected) if e in by_epoch}
    todo = [e for e in selected if e not in results or run_curve.stale(results[e], e, weights[e])]
    for e, result in sorted(results.items()):  # what stays in the curve must stand for this run
        why = run_curve.stale(result, e, weights.get(e))
        if why and e not in todo:
            raise UserError(f"{run_curve.result_path(out, e)} cannot stand for epoch {e}: {why}; "
                            + (f"rescore it with --epochs {e}" if e in by_epoch else "remove it"))
    if todo:
        check_writable_folder(out, "--out")
        from gan_core.data.dataset import PreparedDataset
        from gan_core.eval import evaluate as evaluation

        PreparedDataset(args.data)  # a missing or unprepared dataset is one line, before the network loads
        extractor = evaluation.inception_extractor()
        run_curve.mark_folder(out, args.run_dir)
        for i, e in enumerate(todo, 1):
            print(f"[{i}/{len(todo)}] scoring {by_epoch[e]}", flush=True)
            result = evaluation.evaluate_checkpoint(by_epoch[e], args.data, inception=True, extractor=extractor)
            results[e] = {**result, "weights": weights[e], "run": run_curve.run_name(args.run_dir)}
            atomic.write_json(run_curve.result_path(out, e), results[e])
    if not results:
        raise UserError(f"{out} holds no results yet: score some snapshots first")
    print(markdown_table([(f"epoch {e}", results[e]) for e in sorted(results)], CURVE_KEYS))
    fids = {e: r["fid_inception"] for e, r in results.items()}  # each one usable: checked as stale above
    chosen = choose_snapshot(fids, tolerance)
    kept = "" if chosen in by_epoch else f"; {args.run_dir} no longer has its snapshot"
    print(f"the rule picks epoch {chosen}: Inception-FID {fids[chosen]:.2f} "
          f"(lowest {min(fids.values()):.2f}; ties within {tolerance:g} go to the latest{kept})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

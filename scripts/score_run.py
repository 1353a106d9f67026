"""Score a run's snapshots and name the one that the shipped-snapshot rule picks.

    python scripts/score_run.py runs/long2/combo --out results/long2 --every 20
    python scripts/score_run.py runs/long2/combo --out results/long2 --epochs 40,45,50

Each snapshot is scored as `scripts/evaluate.py --checkpoint` scores it (the 819 test captions at
seed 0, the shipped flowers evaluator, the Inception realism numbers) and written atomically to
OUT/epoch_NNNN.json; a snapshot whose JSON is there already is not scored again, so an interrupted
command resumes where it stopped. The Inception network loads once for all snapshots.

Then it prints the curve (every epoch_NNNN.json in OUT, oldest first) and the snapshot that the rule
picks (gan_core.eval.snapshot_rule): the lowest Inception-FID against the training reference; of
those within --tolerance of it, the latest. --no-score only prints.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from gan_core import UserError
from gan_core.cli import entry_point, parse_int_list, script_parser

RESULT = re.compile(r"^epoch_(\d{4,})\.json$")


def _snapshot_epoch(path: Path) -> int:
    return int(path.name.split("_")[1])


def pick_snapshots(snapshots: list[Path], epochs: list[int] | None, every: int | None) -> list[Path]:
    """The run's snapshots to score: the listed epochs (each must exist), every N-th epoch plus the
    last, or all."""
    by_epoch = {_snapshot_epoch(p): p for p in snapshots}
    if epochs:
        missing = [e for e in epochs if e not in by_epoch]
        if missing:
            have = ", ".join(str(e) for e in sorted(by_epoch)) or "none"
            raise UserError(f"no snapshot for epoch {', '.join(map(str, missing))} (the run has: {have})")
        return [by_epoch[e] for e in sorted(set(epochs))]
    if every:
        last = max(by_epoch)
        return [p for e, p in sorted(by_epoch.items()) if e % every == 0 or e == last]
    return [by_epoch[e] for e in sorted(by_epoch)]


def read_curve(out: Path) -> dict[int, dict]:
    """epoch -> result of every epoch_NNNN.json in `out`; an unreadable file is a one-line error."""
    curve = {}
    for path in sorted(out.glob("epoch_*.json")) if out.is_dir() else []:
        match = RESULT.match(path.name)
        if not match:
            continue
        try:
            curve[int(match.group(1))] = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot read {path}: {exc}") from None
    return curve


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
    from gan_core.eval.results_table import CURVE_KEYS, markdown_table
    from gan_core.eval.snapshot_rule import TOLERANCE, choose_snapshot
    from gan_core.outputs import check_writable_folder
    from gan_core.sample.snapshot import list_snapshots

    tolerance = TOLERANCE if args.tolerance is None else args.tolerance
    choose_snapshot({0: 0.0}, tolerance)  # a bad --tolerance is refused before any scoring
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder")
    if not Path(args.run_dir).is_dir():
        raise UserError(f"run folder {args.run_dir} not found")
    snapshots = list_snapshots(args.run_dir)
    if not snapshots:
        raise UserError(f"{args.run_dir} has no snapshots")
    if args.every is not None and args.every < 1:
        raise UserError("--every must be at least 1")
    epochs = parse_int_list(args.epochs, "--epochs", maximum=10**6) if args.epochs else None
    todo = [] if args.no_score else [p for p in pick_snapshots(snapshots, epochs, args.every)
                                     if not (out / f"{p.name}.json").is_file()]
    if todo:
        check_writable_folder(out, "--out")
        if not Path(args.data).is_dir():
            raise UserError(f"prepared dataset {args.data} not found (scripts/prepare_data.py)")
        from gan_core.eval import evaluate as evaluation

        extractor = evaluation.inception_extractor()  # the rule needs FID: no silent skip
        out.mkdir(parents=True, exist_ok=True)
        for i, snapshot in enumerate(todo, 1):
            print(f"[{i}/{len(todo)}] scoring {snapshot}", flush=True)
            result = evaluation.evaluate_checkpoint(snapshot, args.data, inception=True, extractor=extractor)
            atomic.write_json(out / f"{snapshot.name}.json", result)
    curve = read_curve(out)
    if not curve:
        raise UserError(f"{out} holds no epoch_NNNN.json yet: score some snapshots first")
    print(markdown_table([(f"epoch {e}", curve[e]) for e in sorted(curve)], CURVE_KEYS))
    chosen = choose_snapshot({e: r.get("fid_inception") for e, r in curve.items()}, tolerance)
    best = min(r["fid_inception"] for r in curve.values() if r.get("fid_inception") is not None)
    print(f"the rule picks epoch {chosen}: Inception-FID {curve[chosen]['fid_inception']:.2f} "
          f"(lowest {best:.2f}; ties within {tolerance:g} go to the latest)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

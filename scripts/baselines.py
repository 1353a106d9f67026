"""Evaluate the three reference points of the results table: real, retrieval and noise images."""

from __future__ import annotations

import sys

from gan_core import UserError
from gan_core.cli import entry_point, script_parser

COLUMNS = (("score", "{:.4f}"), ("inception_score", "{:.2f}"), ("fid_flowers", "{:.1f}"), ("class_top1", "{:.3f}"),
           ("class_top5", "{:.3f}"), ("caption_cosine", "{:.3f}"), ("r_precision", "{:.3f}"),
           ("fid_inception", "{:.1f}"), ("kid_inception", "{:.4f}"), ("precision", "{:.3f}"), ("recall", "{:.3f}"),
           ("saturated_white", "{:.2%}"), ("saturated_black", "{:.2%}"))


def table(results: dict) -> str:
    lines = ["| baseline | " + " | ".join(c for c, _ in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for kind, result in results.items():
        cells = [fmt.format(result[c]) if c in result else "-" for c, fmt in COLUMNS]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


@entry_point()
def main(argv=None) -> int:
    parser = script_parser(__doc__)
    parser.add_argument("--data", default="data/oxford102", help="prepared dataset")
    parser.add_argument("--out", default="results/baselines.json", help="results JSON (kind -> metrics), atomic")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise baseline")
    parser.add_argument("--no-inception", action="store_true", help="skip the Inception realism numbers")
    args = parser.parse_args(argv)
    from gan_core import atomic
    from gan_core.eval.alignment import load_alignment
    from gan_core.eval.evaluate import (
        BASELINES,
        baseline_images,
        evaluate_images,
        evaluate_realism,
        inception_extractor,
    )
    from gan_core.eval.evaluators import get_evaluator

    extractor = None
    if not args.no_inception:
        try:
            extractor = inception_extractor()
        except UserError as exc:
            print(f"note: Inception metrics skipped: {exc}", file=sys.stderr)
    evaluator = get_evaluator("flowers")
    try:
        alignment = load_alignment()
    except UserError as exc:
        print(f"note: caption metrics skipped: {exc}", file=sys.stderr)
        alignment = None
    results = {}
    for kind in BASELINES:
        images, ids = baseline_images(kind, args.data, seed=args.seed)
        results[kind] = evaluate_images(images, ids, args.data, evaluator=evaluator, alignment=alignment)
        if extractor is not None:
            results[kind].update(evaluate_realism(images, args.data, extractor))
    atomic.write_json(args.out, results)
    print(table(results))
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the flowers evaluator (our own 102-class flower classifier, for evaluation only)."""

from __future__ import annotations

import dataclasses
import sys

from gan_core import UserError
from gan_core.cli import entry_point, script_parser


@entry_point()
def main(argv=None) -> int:
    parser = script_parser(__doc__)
    parser.add_argument("--data", default="data/oxford102", help="prepared dataset (with 64 and 76 px images)")
    parser.add_argument("--out", default="checkpoints/evaluator/flowers", help="model folder, written atomically")
    parser.add_argument("--epochs", type=int, help="training epochs (default: FlowersConfig.epochs)")
    parser.add_argument("--width", type=int, help="first-stage channels (default: FlowersConfig.width)")
    parser.add_argument("--seed", type=int, help="seed (default: FlowersConfig.seed)")
    parser.add_argument("--official-references", metavar="PKL",
                        help="eval_metrics.pkl: also report top-1 agreement with the official classifier "
                             "(a pickle, which executes code when read: pass only files you trust)")
    args = parser.parse_args(argv)
    from gan_core.eval.evaluators.flowers import FlowersConfig, train_flowers_evaluator

    overrides = {k: v for k, v in (("epochs", args.epochs), ("width", args.width), ("seed", args.seed))
                 if v is not None}
    if any(v < (0 if k == "seed" else 1) for k, v in overrides.items()):
        raise UserError("--epochs and --width must be positive, --seed non-negative")
    config = dataclasses.replace(FlowersConfig(), **overrides)
    metrics = train_flowers_evaluator(args.data, args.out, config, log=lambda m: print(m, flush=True),
                                      official_references=args.official_references)
    line = f"flowers evaluator: test top-1 {metrics['test_top1']:.3f}, top-5 {metrics['test_top5']:.3f}"
    if "official_agreement_top1" in metrics:
        line += f", agreement with the official argmax {metrics['official_agreement_top1']:.3f}"
    print(line + f" -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

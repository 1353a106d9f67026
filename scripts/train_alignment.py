"""Train the evaluation's text-image alignment model (caption cosine, R-precision); not the GAN's encoders."""

from __future__ import annotations

import dataclasses
import sys

from gan_core import UserError
from gan_core.cli import entry_point, script_parser


@entry_point()
def main(argv=None) -> int:
    parser = script_parser(__doc__)
    parser.add_argument("--data", default="data/oxford102", help="prepared dataset")
    parser.add_argument("--out", default="checkpoints/evaluator/alignment", help="model folder, written atomically")
    parser.add_argument("--epochs", type=int, help="training epochs (default: AlignmentConfig.epochs)")
    parser.add_argument("--seed", type=int, help="seed (default: AlignmentConfig.seed)")
    args = parser.parse_args(argv)
    from gan_core.eval.alignment import AlignmentConfig, train_alignment

    overrides = {k: v for k, v in (("epochs", args.epochs), ("seed", args.seed)) if v is not None}
    if args.epochs is not None and args.epochs < 1:
        raise UserError("--epochs must be positive")
    config = dataclasses.replace(AlignmentConfig(), **overrides)
    metrics = train_alignment(args.data, args.out, config, log=lambda m: print(m, flush=True))
    print(f"alignment model: test recall@1 {metrics['test_recall_at_1']:.3f}, "
          f"real R-precision {metrics.get('real_r_precision', float('nan')):.3f} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

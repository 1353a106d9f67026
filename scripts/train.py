"""Train the text-to-image GAN; rerun the same command to resume after any interruption."""

from __future__ import annotations

import sys

from gan_core import config as cfg
from gan_core.cli import entry_point, script_parser


@entry_point(interrupted="interrupted before the first state was saved; rerun to start again")
def main(argv=None) -> int:
    parser = script_parser(__doc__)
    parser.add_argument("--data", default="data/oxford102", help="prepared dataset (scripts/prepare_data.py)")
    parser.add_argument("--run-dir", required=True, help="run folder, e.g. checkpoints/NAME (created or resumed)")
    parser.add_argument("--config", help="JSON or YAML config file (fields of gan_core.config.TrainConfig)")
    parser.add_argument("--epochs", type=int, help="total epochs of the run")
    parser.add_argument("--max-steps", type=int, help="stop after this many steps in total")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field, e.g. --set model.ngf=32 (repeatable)")
    parser.add_argument("--distribute", choices=["none", "mirrored", "multiworker"],
                        help="tf.distribute strategy: mirrored (several local GPUs) or multiworker (TF_CONFIG)")
    parser.add_argument("--text-encoder", metavar="PATH",
                        help="a new run reuses the frozen pretrained text encoder of this snapshot or run dir "
                             "(e.g. checkpoints/default) instead of pretraining one (~13 min on 2 cores)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")
    args = parser.parse_args(argv)
    overrides = dict(kv.split("=", 1) if "=" in kv else (kv, "") for kv in args.set)
    for key, value in (("epochs", args.epochs), ("max_steps", args.max_steps), ("distribute", args.distribute)):
        if value is not None:
            overrides[key] = str(value)
    config = cfg.for_run(args.run_dir, args.config, overrides)
    from gan_core.train.loop import train

    summary = train(args.data, args.run_dir, config, progress=not args.no_progress, text_encoder=args.text_encoder)
    state = "interrupted" if summary.interrupted else "done"
    print(f"{state}: steps {summary.start_step} -> {summary.end_step} ({summary.epochs_done} epochs) "
          f"in {summary.seconds / 60:.1f} min; snapshots: {', '.join(summary.snapshots[-3:]) or 'none'}")
    if summary.last_metrics:
        print("last losses: " + ", ".join(f"{k} {v:.3f}" for k, v in summary.last_metrics.items()))
    return 130 if summary.interrupted else 0


if __name__ == "__main__":
    sys.exit(main())

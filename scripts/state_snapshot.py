"""Write a snapshot from a run's saved training state: the trained generator (raw) or its EMA."""

from __future__ import annotations

import sys

from gan_core.cli import entry_point, script_parser
from gan_core.train.state_snapshot import GENERATORS


@entry_point()  # the snapshot folder is written atomically: an interrupt leaves none
def main(argv=None) -> int:
    parser = script_parser(__doc__)
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--out", required=True, help="new snapshot folder, e.g. runs/X/raw/epoch_0020")
    parser.add_argument("--step", type=int, help="a kept state's step (default: the latest)")
    parser.add_argument("--generator", choices=GENERATORS, default="raw",
                        help="raw: the trained generator; ema: the sampling average (default: raw)")
    args = parser.parse_args(argv)
    from gan_core.train.state_snapshot import snapshot_from_state

    path = snapshot_from_state(args.run_dir, args.out, args.step, args.generator)
    print(f"wrote {path} ({args.generator} generator)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

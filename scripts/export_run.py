"""Copy a run's config, logs and chosen snapshots (no optimizer state) to a shippable folder; with
--carry, also the latest state's weights, so that a copy of the folder resumes training anywhere."""

from __future__ import annotations

import sys
from pathlib import Path

from gan_core.cli import entry_point, script_parser
from gan_core.sample.export import export_run


@entry_point()
def main(argv=None) -> int:
    parser = script_parser(__doc__)
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--out", required=True,
                        help="e.g. checkpoints/default; an earlier export there is replaced as a whole, any other "
                             "folder refused")
    parser.add_argument("--snapshots", help="comma list of snapshot names, e.g. epoch_0001,epoch_0010; "
                                            "'none' with --carry: the carry alone")
    parser.add_argument("--count", type=int, default=6, help="without --snapshots: this many, spread evenly")
    parser.add_argument("--discriminator-in", metavar="NAMES",
                        help="comma list of exported snapshots that keep their discriminator (best-of-N sampling); "
                             "'none' for no snapshot (default: every snapshot keeps the one it has)")
    parser.add_argument("--float32", action="store_true", help="keep weights in float32 (default: float16)")
    parser.add_argument("--carry", action="store_true",
                        help="add carry.npz: the latest state's generator and discriminator (float16 unless "
                             "--float32; no optimizer state); copy OUT to a run dir and rerun train.py to resume")
    args = parser.parse_args(argv)
    keep = None if args.discriminator_in is None else [
        n for n in args.discriminator_in.split(",") if n and args.discriminator_in != "none"]
    names = None if not args.snapshots else [] if args.snapshots == "none" else args.snapshots.split(",")
    chosen = export_run(args.run_dir, args.out, names,
                        args.count, float16=not args.float32, discriminator_in=keep, carry=args.carry)
    size = sum(p.stat().st_size for p in Path(args.out).rglob("*") if p.is_file())
    carried = " and the latest state's weights (carry.npz)" if args.carry else ""
    print(f"exported {len(chosen)} snapshots ({', '.join(chosen) or 'none'}){carried} to {args.out}: "
          f"{size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

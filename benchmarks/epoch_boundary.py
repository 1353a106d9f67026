"""What each epoch boundary costs a run, read from its metrics.csv (no training). Prints its numbers.

The loop logs a row every `log_every` steps with the run's elapsed time; see
`gan_core.train.timing.boundary_cost` for how the cost of a boundary is read from those rows.
"""

from __future__ import annotations

import argparse
import json
import sys

from gan_core.explore.runs import read_metrics
from gan_core.train.timing import boundary_cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", help="run folders with a metrics.csv")
    parser.add_argument("--from-step", type=int, default=0, help="ignore rows before this step")
    args = parser.parse_args()
    for run in args.run_dirs:
        metrics = read_metrics(run)
        if len(metrics) < 2:
            sys.exit(f"error: {run} has no metrics.csv with two or more rows to read")
        per_epoch = round(float(metrics["step"].iloc[-1] / metrics["epoch"].iloc[-1]))
        result = boundary_cost(metrics, per_epoch, args.from_step)
        print(f"{run}: {per_epoch} steps per epoch, {json.dumps(result)}")


if __name__ == "__main__":
    main()

"""Where a run's wall clock goes, read from its metrics.csv: pure functions, no TensorFlow."""

from __future__ import annotations

import numpy as np
import pandas as pd


def boundary_cost(metrics: pd.DataFrame, steps_per_epoch: int, first_step: int = 0) -> dict:
    """-> medians (s) of logging intervals with and without an epoch end, their counts, their
    difference (the cost of one boundary) and the step time.

    A logging interval that contains an epoch's end also holds the work done there (the next
    epoch's pipeline, the last one's teardown, the state save, every few epochs a snapshot).
    Medians, because other work on the machine and resumes put outliers in both.
    """
    rows = metrics[metrics["step"] >= first_step].sort_values("step")
    steps, times = rows["step"].to_numpy(), rows["time"].to_numpy()
    gap = np.diff(steps)
    regular = gap == np.median(gap)  # resumes log at odd steps; keep full intervals only
    crosses = (steps[1:] - 1) // steps_per_epoch != (steps[:-1] - 1) // steps_per_epoch
    dt = np.diff(times)
    with_end, without = dt[regular & crosses], dt[regular & ~crosses]
    if len(with_end) == 0 or len(without) == 0:
        return {"intervals_with_end": len(with_end), "intervals_without": len(without)}
    return {
        "intervals_with_end": len(with_end),
        "intervals_without": len(without),
        "median_with_end_s": round(float(np.median(with_end)), 2),
        "median_without_s": round(float(np.median(without)), 2),
        "cost_per_boundary_s": round(float(np.median(with_end) - np.median(without)), 2),
        "step_s": round(float(np.median(without) / np.median(gap)), 3),
    }

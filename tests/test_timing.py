import numpy as np
import pandas as pd

from gan_core.train.timing import boundary_cost


def metrics_with(step_s: float, boundary_s: float, steps_per_epoch: int = 115, log_every: int = 20,
                 last: int = 2300, resume_at: int | None = None) -> pd.DataFrame:
    """A metrics.csv as the loop writes it: a row every log_every steps, time cumulative; the
    epoch-end work at step k*spe lands after that step's row, so in the next interval."""
    steps = list(range(log_every, last + 1, log_every))
    if resume_at is not None:  # a resume logs its first row at an odd step
        steps = sorted(set(steps) | {resume_at})
    time, rows, prev = 0.0, [], 0
    for s in steps:
        time += (s - prev) * step_s + boundary_s * sum(1 for e in range(prev, s) if e and e % steps_per_epoch == 0)
        rows.append({"step": s, "epoch": s / steps_per_epoch, "time": time})
        prev = s
    return pd.DataFrame(rows)


def test_a_stall_at_each_epoch_end_is_measured_as_its_cost():
    out = boundary_cost(metrics_with(1.25, 30.0), 115)
    assert out["cost_per_boundary_s"] == 30.0
    assert out["step_s"] == 1.25
    assert out["intervals_with_end"] == 19  # epoch ends 115 ... 2185 (2300's work is after the last row)


def test_no_stall_reads_as_zero_and_odd_resume_intervals_are_left_out():
    out = boundary_cost(metrics_with(1.4, 0.0, resume_at=1003), 115)
    assert out["cost_per_boundary_s"] == 0.0
    assert out["intervals_without"] + out["intervals_with_end"] == 113  # 115 rows, two odd intervals dropped


def test_from_step_ignores_the_rows_before_it():
    early = metrics_with(1.0, 40.0, last=1200)
    late = metrics_with(1.0, 0.0, last=2400).query("step > 1200").assign(time=lambda d: d["time"] + 2000)
    both = pd.concat([early, late])
    assert boundary_cost(both, 115)["cost_per_boundary_s"] > 0
    assert boundary_cost(both, 115, first_step=1220)["cost_per_boundary_s"] == 0.0
    assert np.isclose(boundary_cost(both, 115, first_step=1220)["step_s"], 1.0)

"""Learning-rate schedule: constant, then a linear decay towards 0 at the end of the run (as pix2pix does)."""

from __future__ import annotations


def lr_scale(step: int, total_steps: int, decay_from: float) -> float:
    """Multiplier of both learning rates for the update made at 0-based `step` of a `total_steps` run.

    Constant until `decay_from` of the run has passed, then linear so that the step after the last
    would reach 0; decay_from 1 keeps the rates constant.
    """
    start = round(decay_from * total_steps)
    if step < start or start >= total_steps:
        return 1.0
    return max(0.0, (total_steps - step) / (total_steps - start))

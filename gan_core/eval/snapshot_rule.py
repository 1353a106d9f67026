"""The rule that picks a run's shipped snapshot, fixed before any long run is scored (docs/experiments.md).

Lowest Inception-FID against the dataset's reference set of training images; of the snapshots within
`tolerance` of that lowest, the latest (later is longer trained, and a move under the tolerance is
snapshot-to-snapshot noise). Generated images are compared with training images only, so no test image
takes part in the choice, and the test score that the chosen snapshot then reports carries no
selection bias.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from gan_core import UserError

TOLERANCE = 1.0


def check_tolerance(tolerance: float) -> float:
    if not math.isfinite(tolerance) or tolerance < 0:
        raise UserError(f"the tolerance must be a finite number >= 0, not {tolerance}")
    return float(tolerance)


def usable_fid(value) -> bool:
    """Whether `value` is an Inception-FID the rule can compare (not missing, not NaN or infinite)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def finite_fids(fids: Mapping[int, float | None]) -> dict[int, float]:
    """The snapshots that have a usable Inception-FID (missing and NaN ones are left out)."""
    return {int(e): float(f) for e, f in fids.items() if usable_fid(f)}


def choose_snapshot(fids: Mapping[int, float | None], tolerance: float = TOLERANCE) -> int:
    """fids: epoch -> Inception-FID of that snapshot; -> the epoch the rule picks."""
    tolerance = check_tolerance(tolerance)
    usable = finite_fids(fids)
    if not usable:
        raise UserError("no snapshot has an Inception-FID: score the run's snapshots with their realism numbers")
    lowest = min(usable.values())
    return max(epoch for epoch, fid in usable.items() if fid <= lowest + tolerance)

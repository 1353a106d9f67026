"""The benchmarks' one timing helper (the scripts run as `python benchmarks/NAME.py`, so this folder
is on their import path)."""

from __future__ import annotations

import time


def timed(label: str, fn, rows: list | None = None, width: int = 62, digits: int = 3):
    """Call fn(), print "label  seconds", append (label, seconds) to `rows` when given; fn's result."""
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    if rows is not None:
        rows.append((label, seconds))
    print(f"{label:<{width}s} {seconds:8.{digits}f} s", flush=True)
    return out

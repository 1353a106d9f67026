"""Shared test fixtures: the shared real data set, tiny synthetic sources."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED_DATA = (ROOT / ".." / "shared" / "data" / "oxford102").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "text_c10").is_dir():
        pytest.skip(f"real data set not found at {SHARED_DATA} (see README: Data)")
    return SHARED_DATA

"""Shared test fixtures: repository on sys.path, the shared real data set, tiny synthetic sources."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED_DATA = (ROOT / ".." / "shared" / "data" / "oxford102").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "text_c10").is_dir():
        pytest.skip(f"real data set not found at {SHARED_DATA} (see README: Data)")
    return SHARED_DATA

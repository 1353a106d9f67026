import subprocess
import sys

import pytest
from conftest import ROOT
from tiny import tiny_dataset


@pytest.mark.slow
def test_mirrored_strategy_matches_single_device(tmp_path):
    data = tiny_dataset(tmp_path)
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "distributed_check.py"), str(data)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "EQUIVALENT" in proc.stdout

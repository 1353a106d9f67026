"""Sampling-table rows from sweep.sh's files: python runs/long/sweep_rows.py results/shipped/epoch_0300"""
import json
import sys
from pathlib import Path

from rows import realism_cells

prefix = sys.argv[1]
for label, suffix in [("psi 1.0 (as drawn)", ""), ("psi 0.9", "_psi0.9"), ("psi 0.8", "_psi0.8"), ("psi 0.7", "_psi0.7"),
                      ("best of 4 by D", "_bestof4"), ("best of 8 by D", "_bestof8")]:
    d = json.loads(Path(f"{prefix}{suffix}.json").read_text())
    print(f"| {label} | {realism_cells(d)} | {d['r_precision']:.3f} | {d['inception_score']:.2f} |")

"""Sampling-table rows from sweep.sh's files: python runs/long/sweep_rows.py results/shipped/epoch_0300"""
import json, sys
prefix = sys.argv[1]
for label, suffix in [("psi 1.0 (as drawn)", ""), ("psi 0.9", "_psi0.9"), ("psi 0.8", "_psi0.8"), ("psi 0.7", "_psi0.7"),
                      ("best of 4 by D", "_bestof4"), ("best of 8 by D", "_bestof8")]:
    d = json.load(open(f"{prefix}{suffix}.json"))
    print(f"| {label} | {d['score']:.4f} | {d['fid_inception']:.1f} | {d['kid_inception']:.3f} | {d['precision']:.3f} | "
          f"{d['recall']:.3f} | {100*d['saturated_white']:.2f}% | {100*d['saturated_black']:.2f}% | {d['class_top1']:.3f} | "
          f"{d['r_precision']:.3f} | {d['inception_score']:.2f} |")

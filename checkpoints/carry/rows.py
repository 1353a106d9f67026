"""Course-table rows from results/long/epoch_NNNN.json: python runs/long/rows.py 10 20 ..."""
import csv
import json
import sys
from pathlib import Path


def realism_cells(d):
    """The cells both tables share: score, FID, KID, precision, recall, white, black, top-1."""
    return (f"{d['score']:.4f} | {d['fid_inception']:.1f} | {d['kid_inception']:.3f} | {d['precision']:.3f} | "
            f"{d['recall']:.3f} | {100*d['saturated_white']:.2f}% | {100*d['saturated_black']:.2f}% | {d['class_top1']:.3f}")


def hours(rows, step):
    best = [r for r in rows if int(r["step"]) <= step]
    return float(best[-1]["time"]) / 3600 if best else 0.0


if __name__ == "__main__":
    with open("runs/long/ms0_dres1_ema/metrics.csv") as f:
        rows = list(csv.DictReader(f))
    for e in map(int, sys.argv[1:]):
        step = e * 115  # steps per epoch at batch 64
        d = json.loads(Path(f"results/long/epoch_{e:04d}.json").read_text())
        print(f"| {e} ({step}) | {hours(rows, step):.2f} | {realism_cells(d)} |")

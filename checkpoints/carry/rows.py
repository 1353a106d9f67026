"""Course-table rows from results/long/epoch_NNNN.json: python runs/long/rows.py 10 20 ..."""
import csv, json, sys
steps = {}
with open("runs/long/ms0_dres1_ema/metrics.csv") as f:
    rows = list(csv.DictReader(f))
def hours(step):
    best = [r for r in rows if int(r["step"]) <= step]
    return float(best[-1]["time"]) / 3600 if best else 0.0
for e in map(int, sys.argv[1:]):
    d = json.load(open(f"results/long/epoch_{e:04d}.json"))
    step = e * 115
    print(f"| {e} ({step}) | {hours(step):.2f} | {d['score']:.4f} | {d['fid_inception']:.1f} | {d['kid_inception']:.3f} | "
          f"{d['precision']:.3f} | {d['recall']:.3f} | {100*d['saturated_white']:.2f}% | {100*d['saturated_black']:.2f}% | {d['class_top1']:.3f} |")

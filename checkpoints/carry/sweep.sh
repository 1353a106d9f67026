#!/usr/bin/env bash
# psi and best-of sweeps on one snapshot: sweep.sh SNAPSHOT_DIR OUT_PREFIX -> OUT_PREFIX_{psiP,bestofN}.json
# e.g. sweep.sh checkpoints/default/snapshots/epoch_0300 results/shipped/epoch_0300
cd "$(dirname "$0")/../.."  # the project root, from runs/long/ or checkpoints/carry/
snap=$1; prefix=$2
while pgrep -f "stage_next.sh" > /dev/null; do sleep 30; done
for p in 0.9 0.8 0.7; do
  out=${prefix}_psi$p.json; [ -f $out ] && continue
  echo "$(date +%T) $snap psi $p"
  nice -n 15 python scripts/evaluate.py --checkpoint $snap --truncation $p --out $out 2>&1 | tail -1
done
for b in 4 8; do
  out=${prefix}_bestof$b.json; [ -f $out ] && continue
  echo "$(date +%T) $snap best-of $b"
  nice -n 15 python scripts/evaluate.py --checkpoint $snap --best-of $b --out $out 2>&1 | tail -1
done

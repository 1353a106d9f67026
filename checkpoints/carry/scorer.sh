#!/usr/bin/env bash
# Score the long run's EMA snapshots as they appear: runs/long/scorer.sh 10 20 30 ...
cd "$(dirname "$0")/../.."  # the project root, from runs/long/ or checkpoints/carry/
for e in "$@"; do
  n=$(printf %04d "$e"); snap=runs/long/ms0_dres1_ema/snapshots/epoch_$n; out=results/long/epoch_$n.json
  [ -f "$out" ] && continue
  until [ -f "$snap/samples.png" ]; do sleep 30; done
  sleep 20
  echo "$(date +%T) scoring epoch $e"
  nice -n 15 python scripts/evaluate.py --checkpoint "$snap" --out "$out" 2>&1 | tail -3
done

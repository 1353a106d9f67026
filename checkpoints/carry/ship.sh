#!/usr/bin/env bash
# Ship the long run as checkpoints/default: runs/long/ship.sh BEST E1 E2 ... (epochs, BEST among them)
# Run with the trainer stopped. Keeps the old default's UMAP cache (same frozen text encoder).
set -euo pipefail
cd "$(dirname "$0")/../.."  # the project root, from runs/long/ or checkpoints/carry/
best=$(printf %04d "$1"); shift
names=$(for e in "$@"; do printf "epoch_%04d," "$e"; done); names=${names%,}
mkdir -p /tmp/old_default && cp checkpoints/default/snapshots/epoch_0100/umap_*.json /tmp/old_default/
run=runs/long/ms0_dres1_ema
for snap in checkpoints/carry/ms0_dres1_ema/snapshots/epoch_*; do  # carried snapshots a new machine lacks
  [ -d $run/snapshots/$(basename $snap) ] || cp -r $snap $run/snapshots/
done
python scripts/export_run.py --run-dir $run --out checkpoints/default --snapshots "$names" --discriminator-in epoch_$best
cp /tmp/old_default/umap_*.json checkpoints/default/snapshots/epoch_$best/
mkdir -p results/shipped
for e in "$@"; do
  n=$(printf %04d "$e")
  python scripts/evaluate.py --checkpoint checkpoints/default/snapshots/epoch_$n --out results/shipped/epoch_$n.json 2>&1 | tail -2
done
du -sh checkpoints/default

#!/usr/bin/env bash
# Stage a snapshot as it will ship (float16, no D), score it once for both tables, and swap it into the
# run dir (float32 original to runs/long/f32/): stage_next.sh E
set -e
cd "$(dirname "$0")/../.."  # the project root, from runs/long/ or checkpoints/carry/
mkdir -p runs/long/f32 runs/long/staging/snapshots results/shipped
n=$(printf %04d "$1"); run=runs/long/ms0_dres1_ema; snap=$run/snapshots/epoch_$n
until [ -f "$snap/samples.png" ]; do sleep 30; done
sleep 20
while pgrep -f "scripts/evaluate.py" > /dev/null; do sleep 30; done
echo "$(date +%T) staging epoch $1"
rm -rf runs/long/staging_$n
nice -n 15 python scripts/export_run.py --run-dir $run --out runs/long/staging_$n --snapshots epoch_$n --discriminator-in none | tail -1
mv runs/long/staging_$n/snapshots/epoch_$n runs/long/staging/snapshots/ && rm -rf runs/long/staging_$n
nice -n 15 python scripts/evaluate.py --checkpoint runs/long/staging/snapshots/epoch_$n --out results/shipped/epoch_$n.json 2>&1 | tail -1
cp results/shipped/epoch_$n.json results/long/epoch_$n.json
mv $snap runs/long/f32/ && cp -r runs/long/staging/snapshots/epoch_$n $run/snapshots/
echo "$(date +%T) staged epoch $1"

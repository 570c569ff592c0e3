#!/usr/bin/env bash
# Winograd on against off (STATICNET_WINOGRAD=0) for whole networks, in
# interleaved rounds: training step and inference at batch 128
# (staticnet_train_step), batch-1 and batch-128 Predictor latency / images/s
# (inference_compare). Prints every raw line tagged on/off; report the
# median over rounds of the on/off ratios.
#   bench/winograd_ab.sh [build-dir] [rounds] [nets]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-bench}
ROUNDS=${2:-3}
NETS=${3:-"s7_dilated fashion"}
for round in $(seq "$ROUNDS"); do
  for net in $NETS; do
    for mode in on off; do
      env=""; [ "$mode" = off ] && env="STATICNET_WINOGRAD=0"
      env $env "$BUILD/bench/staticnet_train_step" --threads 2 --batch 128 --steps 5 --net "$net" | sed "s/^/$mode $round /"
      for b in 1 128; do
        calls=$([ "$b" = 1 ] && echo 200 || echo 10)
        env $env "$BUILD/bench/inference_compare" --net "$net" --batch "$b" --threads 2 --calls "$calls" | sed "s/^/$mode $round /"
      done
    done
  done
done

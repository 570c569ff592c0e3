#!/usr/bin/env bash
# The soak test (issue "Reliability", not in CI): bench/soak/soak.cpp trains
# and evaluates for SOAK_MINUTES (30) minutes, checkpointing and resuming every
# epoch, first in a Release build (RSS sampled after every epoch: it fails when
# memory keeps growing), then in an AddressSanitizer + LeakSanitizer build for
# SOAK_SAN_MINUTES (default: the same) (it fails on any leak at exit).
#   ./scripts/soak.sh                 # 30 + 30 minutes
#   SOAK_MINUTES=3 SOAK_SAN_MINUTES=2 ./scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MIN=${SOAK_MINUTES:-30}
SAN_MIN=${SOAK_SAN_MINUTES:-$MIN}
JOBS=$(nproc)
OUT=${SOAK_OUT:-/tmp/staticnet-soak}
cmake -S . -B build-soak -DCMAKE_BUILD_TYPE=Release -DSTATICNET_BUILD_BENCHMARKS=ON -DSTATICNET_BUILD_TESTS=OFF \
      -DSTATICNET_BUILD_EXAMPLES=OFF -DSTATICNET_CUDA=OFF > /dev/null
cmake --build build-soak -j"$JOBS" --target soak
cmake -S . -B build-soak-san -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTATICNET_SANITIZE=ON -DSTATICNET_BUILD_BENCHMARKS=ON \
      -DSTATICNET_BUILD_TESTS=OFF -DSTATICNET_BUILD_EXAMPLES=OFF -DSTATICNET_CUDA=OFF > /dev/null
cmake --build build-soak-san -j"$JOBS" --target soak
echo "== soak, Release, $MIN min"
build-soak/bench/soak --minutes "$MIN" --out "$OUT/release"
echo "== soak, ASan + LeakSanitizer, $SAN_MIN min"
# RSS under ASan includes its quarantine: the growth verdict is the Release
# run's; this one is about leaks (LeakSanitizer fails the exit on any).
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp" \
  build-soak-san/bench/soak --minutes "$SAN_MIN" --out "$OUT/asan" --max-growth-mb 1e9
echo "soak: passed"

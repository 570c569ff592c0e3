#!/usr/bin/env bash
# The main job: installs dependencies, builds the examples and runs them.
# (Until the CPU engine and trainer land, this prints the assignment
# networks' summaries and receptive-field tables, proven at compile time.)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DSTATICNET_BUILD_TESTS=OFF -DSTATICNET_BUILD_EXAMPLES=ON
cmake --build "$BUILD_DIR" -j"$(nproc)"
for program in s9 s7_late s7_dilated s7_groups s7_transition; do
  "$BUILD_DIR/examples/assignments/$program" --summary
done

#!/usr/bin/env bash
# Installs dependencies, builds staticnet with its tests and runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-tests}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DSTATICNET_BUILD_TESTS=ON -DSTATICNET_BUILD_EXAMPLES=ON
cmake --build "$BUILD_DIR" -j"$(nproc)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)"

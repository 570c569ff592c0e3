#!/usr/bin/env bash
# The main job: installs the dependencies (and Debian's Fashion-MNIST), builds
# staticnet's examples and trains the default example, a small CNN on
# Fashion-MNIST (4 epochs, OneCycle SGD; test accuracy after every epoch;
# checkpoints, log.jsonl and PNG reports in runs/fashion_mnist).
# Extra arguments go to the training program (e.g. --epochs 5 --threads 2).
set -euo pipefail
cd "$(dirname "$0")/.."
STATICNET_WITH_DATA=1 ./scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DSTATICNET_BUILD_TESTS=OFF -DSTATICNET_BUILD_EXAMPLES=ON
cmake --build "$BUILD_DIR" -j"$(nproc)" --target fashion_mnist
"$BUILD_DIR/examples/fashion_mnist" --summary
"$BUILD_DIR/examples/fashion_mnist" --data /usr/share/datasets/fashion-mnist --out runs/fashion_mnist "$@"

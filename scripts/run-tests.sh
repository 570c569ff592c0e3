#!/usr/bin/env bash
# Installs dependencies, builds staticnet with its tests and runs them all:
#  1. the whole suite (unit, parity, gradient-check, compile-fail, header and
#     installed-package tests) in a Release build;
#  2. the engine and trainer tests again under AddressSanitizer and
#     UndefinedBehaviorSanitizer (STATICNET_SANITIZE=ON);
#  3. the thread pool's test under ThreadSanitizer;
#  4. the fuzz targets (fuzz/, libFuzzer + ASan + UBSan), 60 s each.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
JOBS=$(nproc)
BUILD_DIR=${BUILD_DIR:-build-tests}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DSTATICNET_BUILD_TESTS=ON -DSTATICNET_BUILD_EXAMPLES=ON
cmake --build "$BUILD_DIR" -j"$JOBS"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS"

if [ "${STATICNET_SKIP_SANITIZERS:-0}" != "1" ]; then
  SAN_DIR=${SAN_DIR:-build-sanitize}
  SAN_TESTS=(test_model_parity test_model_gradcheck test_model_errors test_engine test_cpu_isa test_cpu_conv test_cpu_layers
             test_cpu_gemm test_cpu_parallel test_adam test_data test_augment test_checkpoint test_trainer)
  cmake -S . -B "$SAN_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTATICNET_SANITIZE=ON \
        -DSTATICNET_BUILD_TESTS=ON -DSTATICNET_BUILD_EXAMPLES=OFF -DSTATICNET_CUDA=OFF
  cmake --build "$SAN_DIR" -j"$JOBS" --target "${SAN_TESTS[@]}"
  regex="^($(IFS='|'; echo "${SAN_TESTS[*]}"))\$"
  # fontconfig (under cairo) keeps allocations until exit: not ours.
  LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp" UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$SAN_DIR" --output-on-failure -j"$JOBS" -R "$regex"
  # The pool's spin-then-sleep hand-offs under ThreadSanitizer (one small test,
  # compiled straight: a whole TSan build would cost minutes for nothing more).
  c++ -std=c++20 -O1 -g -fsanitize=thread -Iinclude tests/unit/test_cpu_parallel.cpp \
      -lgtest_main -lgtest -pthread -o "$SAN_DIR/test_cpu_parallel_tsan"
  TSAN_OPTIONS=halt_on_error=1 "$SAN_DIR/test_cpu_parallel_tsan"
fi

if [ "${STATICNET_SKIP_FUZZ:-0}" != "1" ]; then
  ./scripts/fuzz.sh "${STATICNET_FUZZ_SECONDS:-60}"
fi


#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs each for SECONDS (default 60), two at a
# time, starting from its committed seed corpus (fuzz/corpus/<target>; new
# inputs go to a scratch copy, the tree is not changed). A crash, a leak, a
# timeout (10 s for one input) or more than 2 GB of memory fails the script,
# and the input is left in $OUT_DIR (default build-fuzz/findings) to become a
# regression test.
#   scripts/fuzz.sh [SECONDS] [TARGET ...]     # targets: cifar10 idx safetensors checkpoint options
# Called by scripts/run-tests.sh with 60 s. Needs clang++ and its libFuzzer
# runtime (Debian: clang, libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(cifar10 idx safetensors checkpoint options)
CXX=${FUZZ_CXX:-clang++}
OUT=${BUILD_FUZZ:-build-fuzz}
OUT_DIR=${OUT_DIR:-$OUT/findings}
mkdir -p "$OUT" "$OUT_DIR"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -Iinclude -Iexamples/assignments -Ifuzz)
build() {
  "$CXX" "${flags[@]}" "fuzz/fuzz_$1.cpp" -lz -pthread -o "$OUT/fuzz_$1"
}
run() {
  local t=$1 corpus="$OUT/corpus_$1"
  rm -rf "$corpus" && mkdir -p "$corpus" && cp fuzz/corpus/"$t"/* "$corpus"/
  local dict=()
  case $t in safetensors|checkpoint) dict=(-dict=fuzz/safetensors.dict) ;; esac
  if "$OUT/fuzz_$t" "$corpus" "${dict[@]}" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
       -seed=1 -print_final_stats=1 -artifact_prefix="$OUT_DIR/$t-" > "$OUT/fuzz_$t.log" 2>&1; then
    echo "fuzz_$t: $(grep -E '^stat::number_of_executed_units' "$OUT/fuzz_$t.log" | awk '{print $2}') executions in ${SECONDS_EACH} s, no finding"
  else
    echo "fuzz_$t: FINDING (log $OUT/fuzz_$t.log, input in $OUT_DIR)"
    tail -40 "$OUT/fuzz_$t.log"
    return 1
  fi
}
bpids=()
for t in "${TARGETS[@]}"; do build "$t" & bpids+=($!); done
for p in "${bpids[@]}"; do wait "$p" || { echo "fuzz: a target did not build"; exit 1; }; done
pids=()
status=0
for t in "${TARGETS[@]}"; do
  run "$t" & pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}" || status=1; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status

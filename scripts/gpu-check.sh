#!/usr/bin/env bash
# One command for a fresh GPU device machine (bench/gpu/README.md): builds the
# CUDA tests and the GPU benchmark against the vendored device-deps/ prefix
# (scripts/vendor-device-deps.sh, carried along), runs the tests labelled
# `cuda`, compute-sanitizer's memcheck on one training step, staticnet's GPU
# benchmark and PyTorch's (bench/gpu/pytorch_gpu.py), and prints the ratios.
#   scripts/gpu-check.sh                     # from the repository root, on the device machine
# On the device tool:  command "bash scripts/gpu-check.sh", carry ["device-deps"], timeout_s 540.
# Every phase has its own timeout, all of them together stay under
# GPU_CHECK_BUDGET_S (default 450 s); a phase that would start with too little
# time left is skipped. A failing phase is recorded and the later ones still
# run (the benchmarks too); the exit status is 1 if any phase failed or was
# skipped. Logs (at most 8 files, as the device tool returns them) go to $OUT,
# or to $BUILD_DIR/gpu-check-logs when OUT is unset.
# Knobs (environment):
#   GPU_CHECK_DRY=1             print each phase's command and run nothing
#   GPU_CHECK_STOP_AFTER=PHASE  stop after configure, build, ctest, sanitizer or staticnet-bench
#   GPU_CHECK_BUDGET_S=450      the whole script's time limit (seconds)
#   GPU_CHECK_CAP_SCALE=1       multiplies every phase's time cap (a slow machine trying the script)
#   GPU_CHECK_CUDA_ARCH=90      CMAKE_CUDA_ARCHITECTURES
#   GPU_CHECK_BENCH_ARGS=...    extra arguments for staticnet_gpu_bench
#   GPU_CHECK_PYTORCH_ARGS=...  extra arguments for bench/gpu/pytorch_gpu.py (e.g. --quick)
#   BUILD_DIR=build-gpu, DEVICE_DEPS=$PWD/device-deps, CUDNN_ROOT=<dir with include/ and lib/>
set -euo pipefail
cd "$(dirname "$0")/.."

# The CUDA test executables (CTest label `cuda`) and the GPU benchmark: the
# build targets, built with --target; a name missing from the build is a failure.
GPU_TEST_TARGETS=(test_cuda_model test_cudnn_graph test_cuda_host cuda_kernels_link test_cuda_arith)
GPU_BENCH_TARGET=staticnet_gpu_bench
SANITIZER_TEST=test_cuda_model
SANITIZER_FILTER='*OneStep*'

BUILD_DIR=${BUILD_DIR:-build-gpu}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$PWD/$BUILD_DIR ;; esac
DEPS=${DEVICE_DEPS:-$PWD/device-deps}
BUDGET_S=${GPU_CHECK_BUDGET_S:-450}
DRY=${GPU_CHECK_DRY:-0}
STOP_AFTER=${GPU_CHECK_STOP_AFTER:-}
CUDA_ARCH=${GPU_CHECK_CUDA_ARCH:-90}
JOBS=$(nproc 2>/dev/null || echo 4)
LOGS=${OUT:-$BUILD_DIR/gpu-check-logs}
mkdir -p "$LOGS"
T0=$(date +%s)
PHASES=()   # "name|status|seconds"
FAILED=0
ORIG_LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}

say() { echo "gpu-check: $*"; }
first_file() { local f; for f in "$@"; do [ -e "$f" ] && { echo "$f"; return 0; }; done; return 1; }
elapsed() { echo $(( $(date +%s) - T0 )); }
record() { PHASES+=("$1|$2|$3"); case "$2" in ok|dry) ;; *) FAILED=1 ;; esac; }

# phase NAME CAP RESERVE LOG -- COMMAND...: runs COMMAND under a timeout of
# min(CAP, time left - RESERVE), output to the terminal and appended to LOG,
# and records its status and seconds. Returns the command's status.
phase() {
  local name=$1 cap=$(( $2 * ${GPU_CHECK_CAP_SCALE:-1} )) reserve=$3 log=$4
  shift 5
  local left=$(( BUDGET_S - $(elapsed) ))
  local tmo=$(( left - reserve < cap ? left - reserve : cap ))
  echo
  if [ "$DRY" = 1 ]; then
    echo "== [dry] $name (timeout ${tmo}s): $*" | tee -a "$log"
    record "$name" dry 0
    return 0
  fi
  if [ "$tmo" -lt 5 ]; then
    say "$name skipped: ${left}s left of the ${BUDGET_S}s budget, ${reserve}s kept for later phases: $*" | tee -a "$log"
    record "$name" "skipped (budget)" 0
    return 1
  fi
  echo "== [$(elapsed)s] $name (timeout ${tmo}s): $*" | tee -a "$log"
  local t rc=0 s
  t=$(date +%s)
  timeout --kill-after=10 "$tmo" "$@" 2>&1 | tee -a "$log" || rc=${PIPESTATUS[0]}
  s=$(( $(date +%s) - t ))
  if [ "$rc" = 0 ]; then record "$name" ok "$s"
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then record "$name" "TIMEOUT after ${tmo}s" "$s"
  else record "$name" "FAILED (exit $rc)" "$s"; fi
  echo "== [$(elapsed)s] $name: exit $rc after ${s}s" | tee -a "$log"
  return "$rc"
}

summary() {
  echo
  echo "phase | status | seconds"
  echo "---|---|---:"
  local p
  for p in "${PHASES[@]}"; do
    IFS='|' read -r n st s <<< "$p"
    echo "$n | $st | $s"
  done
  echo "total | $([ "$FAILED" = 0 ] && echo ok || echo FAILED) | $(elapsed)"
}
finish() {
  summary | tee -a "$LOGS/summary.md"
  if [ "$FAILED" = 0 ]; then say "all phases passed in $(elapsed)s (logs in $LOGS)"; exit 0; fi
  say "some phases failed or were skipped (logs in $LOGS)"; exit 1
}
stop_after() { if [ "$STOP_AFTER" = "$1" ]; then say "stopping after $1 (GPU_CHECK_STOP_AFTER)"; finish; fi; }

: > "$LOGS/summary.md"
INFO=$LOGS/info.log
: > "$INFO"

# ------------------------------------------------------------- machine --
{
  say "$(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname), $(uname -srm), $JOBS cores, budget ${BUDGET_S}s"
  say "commit $(git rev-parse --short HEAD 2>/dev/null || echo '?') $(git status --porcelain 2>/dev/null | grep -q . && echo '(with local changes)')"
  if command -v nvidia-smi > /dev/null; then
    nvidia-smi -L || true
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,temperature.gpu --format=csv || true
  else
    say "nvidia-smi not found"
  fi
  NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
  [ -x "$NVCC" ] && "$NVCC" --version | tail -2 || say "nvcc not found"
  cmake --version | head -1 || true
  "$(command -v "${CXX:-c++}" || command -v g++ || echo c++)" --version | head -1 || true
  command -v ninja > /dev/null && echo "ninja $(ninja --version)" || say "ninja not found (Unix Makefiles)"
  command -v compute-sanitizer > /dev/null && compute-sanitizer --version | tail -1 || true
  timeout 60 python3 -c 'import sys, torch; print("python %s, torch %s, CUDA %s, cuDNN %s, GPU available: %s" % (sys.version.split()[0], torch.__version__, torch.version.cuda, torch.backends.cudnn.version(), torch.cuda.is_available()))' || say "python3 with torch: not usable"
  for h in /usr/include/zlib.h /usr/local/cuda/include/cudnn.h /usr/local/cuda/include/cublas_v2.h; do
    [ -f "$h" ] && say "found $h" || say "no $h"
  done
  for f in /usr/local/cuda/lib64/lib{cudart,cublas,cudnn}.so*; do [ -e "$f" ] && echo "found $f"; done
  echo
  [ -f "$DEPS/MANIFEST" ] && grep '^package\|^#' "$DEPS/MANIFEST" || true
} 2>&1 | tee -a "$INFO" || true

if [ ! -f "$DEPS/MANIFEST" ]; then
  say "$DEPS is missing: run scripts/vendor-device-deps.sh on the development machine and carry device-deps" | tee -a "$INFO"
  record deps "FAILED (no device-deps)" 0
  [ "$DRY" = 1 ] || finish
fi
MULTIARCH=$(sed -n 's/^multiarch=//p' "$DEPS/MANIFEST" 2>/dev/null || true)
MULTIARCH=${MULTIARCH:-x86_64-linux-gnu}
LIBDIR=$DEPS/lib/$MULTIARCH

# Debian's config files are found under lib/<multiarch>/cmake only when CMake
# knows that multiarch; naming each one works whatever the compiler.
CMAKE_ARGS=(-DCMAKE_BUILD_TYPE=Release -DSTATICNET_CUDA=ON -DSTATICNET_CAIRO=OFF -DSTATICNET_BUILD_TESTS=ON
            -DSTATICNET_BUILD_EXAMPLES=OFF -DSTATICNET_BUILD_BENCHMARKS=ON "-DCMAKE_CUDA_ARCHITECTURES=$CUDA_ARCH"
            "-DCMAKE_PREFIX_PATH=$DEPS" "-Dxtl_DIR=$DEPS/share/cmake/xtl" "-Dxsimd_DIR=$LIBDIR/cmake/xsimd"
            "-Dxtensor_DIR=$LIBDIR/cmake/xtensor" "-DZLIB_ROOT=$DEPS")
# CMake 4 refuses config files written for CMake < 3.5 unless told this.
CMAKE_MAJOR=$(cmake --version 2>/dev/null | sed -n 's/^cmake version \([0-9]*\).*/\1/p')
[ "${CMAKE_MAJOR:-3}" -ge 4 ] && CMAKE_ARGS+=(-DCMAKE_POLICY_VERSION_MINIMUM=3.5)
NINJA=0
if command -v ninja > /dev/null; then CMAKE_ARGS+=(-G Ninja); NINJA=1; fi
if [ -x /usr/local/cuda/bin/nvcc ] && ! command -v nvcc > /dev/null; then
  CMAKE_ARGS+=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
fi

# --------------------------------------------------------------- cuDNN --
# The toolkit's or the system's cudnn.h if there is one (CMake finds those);
# else the one in PyTorch's environment (pip's nvidia-cudnn: include/, lib/
# with libcudnn.so.9 and no unversioned name, so CMake is told the file).
nvidia_pkg_dir() {  # nvidia_pkg_dir cudnn -> .../site-packages/nvidia/cudnn
  python3 -c "import importlib, sys; m = importlib.import_module('nvidia.$1'); print(list(m.__path__)[0])" 2>/dev/null
}
CUDNN_DIR=${CUDNN_ROOT:-}
if [ -z "$CUDNN_DIR" ] && ! [ -f /usr/local/cuda/include/cudnn.h ] && ! [ -f /usr/include/cudnn.h ] \
   && ! [ -f "/usr/include/$MULTIARCH/cudnn.h" ]; then
  CUDNN_DIR=$(nvidia_pkg_dir cudnn || true)
fi
if [ -n "$CUDNN_DIR" ]; then
  CUDNN_LIB=$(first_file "$CUDNN_DIR"/lib/libcudnn.so "$CUDNN_DIR"/lib/libcudnn.so.[0-9]* || true)
  if [ -f "$CUDNN_DIR/include/cudnn.h" ] && [ -n "$CUDNN_LIB" ]; then
    CMAKE_ARGS+=("-DSTATICNET_CUDNN_INCLUDE=$CUDNN_DIR/include" "-DSTATICNET_CUDNN_LIBRARY=$CUDNN_LIB")
    export LD_LIBRARY_PATH="$CUDNN_DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    say "cuDNN from $CUDNN_DIR ($CUDNN_LIB)" | tee -a "$INFO"
  else
    say "cuDNN: $CUDNN_DIR has no include/cudnn.h or lib/libcudnn.so*; leaving the search to CMake" | tee -a "$INFO"
  fi
else
  say "cuDNN: a system cudnn.h is there; CMake finds it" | tee -a "$INFO"
fi
# cuBLAS: the toolkit's, else pip's nvidia-cublas (FindCUDAToolkit takes the files it is given).
if ! first_file /usr/local/cuda/lib64/libcublas.so* /usr/local/cuda/targets/*/lib/libcublas.so* > /dev/null; then
  CUBLAS_DIR=$(nvidia_pkg_dir cublas || true)
  if [ -n "$CUBLAS_DIR" ]; then
    b=$(first_file "$CUBLAS_DIR"/lib/libcublas.so* || true)
    lt=$(first_file "$CUBLAS_DIR"/lib/libcublasLt.so* || true)
    CMAKE_ARGS+=("-DCUDA_cublas_LIBRARY=$b" "-DCUDA_cublasLt_LIBRARY=$lt"
                 "-DCMAKE_CXX_FLAGS=-isystem $CUBLAS_DIR/include" "-DCMAKE_CUDA_FLAGS=-isystem $CUBLAS_DIR/include")
    export LD_LIBRARY_PATH="$CUBLAS_DIR/lib:$LD_LIBRARY_PATH"
    say "cuBLAS: not in /usr/local/cuda; using $CUBLAS_DIR" | tee -a "$INFO"
  fi
fi

# ----------------------------------------------------------- GoogleTest --
# The static libraries were built on Debian 12 (GCC 12); if they do not link
# with this machine's compiler, build GoogleTest from the vendored sources.
GTEST_DIR_ARG="-DGTest_DIR=$LIBDIR/cmake/GTest"
CXX_BIN=$(command -v "${CXX:-c++}" || command -v g++ || echo c++)
probe=$(mktemp -d)
printf '#include <gtest/gtest.h>\nTEST(Probe, Links) { EXPECT_EQ(1, 1); }\n' > "$probe/p.cpp"
if [ "$DRY" != 1 ]; then
  if "$CXX_BIN" -std=c++20 "$probe/p.cpp" -I"$DEPS/include" "$LIBDIR/libgtest_main.a" "$LIBDIR/libgtest.a" -pthread \
        -o "$probe/p" >> "$INFO" 2>&1 && "$probe/p" --gtest_brief=1 >> "$INFO" 2>&1; then
    say "vendored GoogleTest links and runs here" | tee -a "$INFO"
  else
    say "vendored GoogleTest does not link here; building it from $DEPS/src/googletest" | tee -a "$INFO"
    GT=$BUILD_DIR/gtest-prefix
    if phase gtest-build 120 300 "$INFO" -- bash -c "cmake -S '$DEPS/src/googletest' -B '$BUILD_DIR/gtest-build' \
         -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX='$GT' -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
         && cmake --build '$BUILD_DIR/gtest-build' -j$JOBS && cmake --install '$BUILD_DIR/gtest-build'"; then
      GTEST_DIR_ARG="-DGTest_DIR=$GT/lib/cmake/GTest"
      CMAKE_ARGS+=("-DCMAKE_PREFIX_PATH=$GT;$DEPS")  # the later -D wins
    fi
  fi
fi
rm -rf "$probe"
CMAKE_ARGS+=("$GTEST_DIR_ARG")

# ------------------------------------------------------ configure, build --
CONFIGURED=0
if phase configure 90 300 "$LOGS/configure.log" -- cmake -S . -B "$BUILD_DIR" "${CMAKE_ARGS[@]}"; then CONFIGURED=1; fi
stop_after configure

BUILT=()
if [ "$CONFIGURED" = 1 ] || [ "$DRY" = 1 ]; then
  have=""
  [ "$DRY" = 1 ] || have=$(cmake --build "$BUILD_DIR" --target help 2>/dev/null | sed -E 's/^\.\.\. //; s/:.*$//; s/ .*$//')
  missing=()
  for t in "${GPU_TEST_TARGETS[@]}" "$GPU_BENCH_TARGET"; do
    if [ "$DRY" = 1 ] || grep -qx "$t" <<< "$have"; then BUILT+=("$t"); else missing+=("$t"); fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "build target(s) not defined by this tree's CMake: ${missing[*]} (expected: GPU_TEST_TARGETS and" \
        "GPU_BENCH_TARGET at the top of scripts/gpu-check.sh; is the CUDA engine's CMake in this commit?)" \
        | tee -a "$LOGS/build.log"
    record targets "FAILED (missing: ${missing[*]})" 0
  fi
  if [ ${#BUILT[@]} -gt 0 ]; then
    # Keep going past a target that fails, so that the others still build and run.
    keep=(-k); [ "$NINJA" = 1 ] && keep=(-k 0)
    phase build 300 150 "$LOGS/build.log" -- cmake --build "$BUILD_DIR" -j"$JOBS" --target "${BUILT[@]}" -- "${keep[@]}" || true
  else
    say "nothing to build" | tee -a "$LOGS/build.log"
  fi
fi
stop_after build

# --------------------------------------------------------------- tests --
find_exe() { find "$BUILD_DIR" -type f -name "$1" -perm -u+x 2>/dev/null | head -1 || true; }
if [ "$CONFIGURED" = 1 ] || [ "$DRY" = 1 ]; then
  phase ctest 150 130 "$LOGS/ctest.log" -- ctest --test-dir "$BUILD_DIR" -L cuda --output-on-failure --timeout 90 \
    --no-tests=error || true
fi
stop_after ctest

SAN=$(command -v compute-sanitizer || { [ -x /usr/local/cuda/bin/compute-sanitizer ] && echo /usr/local/cuda/bin/compute-sanitizer; } || true)
SAN_EXE=$(find_exe "$SANITIZER_TEST")
[ "$DRY" = 1 ] && SAN_EXE=${SAN_EXE:-$BUILD_DIR/tests/$SANITIZER_TEST} && SAN=${SAN:-compute-sanitizer}
if [ -z "$SAN" ]; then
  say "compute-sanitizer not found; memcheck skipped" | tee -a "$LOGS/sanitizer.log"
  record sanitizer "skipped (no compute-sanitizer)" 0
elif [ -z "$SAN_EXE" ]; then
  say "$SANITIZER_TEST was not built; memcheck skipped" | tee -a "$LOGS/sanitizer.log"
  record sanitizer "skipped (no $SANITIZER_TEST)" 0
else
  phase sanitizer 120 120 "$LOGS/sanitizer.log" -- "$SAN" --tool memcheck --error-exitcode 99 "$SAN_EXE" \
    "--gtest_filter=$SANITIZER_FILTER" || true
  if [ "$DRY" != 1 ] && grep -q "^\[==========\] 0 tests" "$LOGS/sanitizer.log"; then
    say "memcheck: --gtest_filter=$SANITIZER_FILTER matched no test of $SANITIZER_TEST" | tee -a "$LOGS/sanitizer.log"
    record sanitizer-filter "FAILED (filter matched no test)" 0
  fi
fi
stop_after sanitizer

# ---------------------------------------------------------- benchmarks --
BENCH_EXE=$(find_exe "$GPU_BENCH_TARGET")
[ "$DRY" = 1 ] && BENCH_EXE=${BENCH_EXE:-$BUILD_DIR/bench/$GPU_BENCH_TARGET}
: > "$LOGS/staticnet.log"
if [ -n "$BENCH_EXE" ]; then
  # shellcheck disable=SC2086 # GPU_CHECK_BENCH_ARGS is split on purpose
  phase staticnet-bench 120 100 "$LOGS/staticnet.log" -- "$BENCH_EXE" ${GPU_CHECK_BENCH_ARGS:-} || true
else
  say "$GPU_BENCH_TARGET was not built; staticnet's benchmark skipped" | tee -a "$LOGS/staticnet.log"
  record staticnet-bench "skipped (not built)" 0
fi
stop_after staticnet-bench

# PyTorch with the environment it came with (not the cuDNN path set above);
# it stops starting measurements 25 s before its phase's timeout.
: > "$LOGS/pytorch.log"
left=$(( BUDGET_S - $(elapsed) - 15 ))
pt_budget=$(( (left < 200 ? left : 200) - 25 ))
pt_budget=$(( pt_budget < 10 ? 10 : pt_budget ))
# shellcheck disable=SC2086 # GPU_CHECK_PYTORCH_ARGS is split on purpose
phase pytorch-bench 200 15 "$LOGS/pytorch.log" -- env LD_LIBRARY_PATH="$ORIG_LD_LIBRARY_PATH" PYTHONUNBUFFERED=1 \
  python3 bench/gpu/pytorch_gpu.py --budget-s "$pt_budget" ${GPU_CHECK_PYTORCH_ARGS:-} || true

# -------------------------------------------------------------- ratios --
if [ "$DRY" = 1 ]; then
  phase ratios 30 0 "$LOGS/summary.md" -- python3 bench/gpu/ratios.py "$LOGS/staticnet.log" "$LOGS/pytorch.log"
else
  echo
  python3 bench/gpu/ratios.py "$LOGS/staticnet.log" "$LOGS/pytorch.log" 2>&1 | tee -a "$LOGS/summary.md" || true
fi
finish

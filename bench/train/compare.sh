#!/usr/bin/env bash
# Side-by-side CPU throughput: staticnet vs PyTorch (Debian's python3-torch),
# same thread count, batch 128, training step (forward + backward + SGD) and
# inference, for the S9 and S7-dilated reference networks. PyTorch runs NCHW
# and channels_last, each with glibc's default malloc and with
# GLIBC_TUNABLES=glibc.malloc.hugetlb=1; its fastest variant is the baseline.
# Each measurement runs in its own process (peak RSS is per process).
#   bench/train/compare.sh [build-dir] [threads] [steps]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build-bench}
THREADS=${2:-2}
STEPS=${3:-3}
BIN="$BUILD/bench/staticnet_train_step"
[ -x "$BIN" ] || { echo "build $BIN first: cmake -S . -B $BUILD -DSTATICNET_BUILD_BENCHMARKS=ON && cmake --build $BUILD --target staticnet_train_step"; exit 1; }
results=$(mktemp)
for net in s7_dilated s9; do
  "$BIN" --threads "$THREADS" --batch 128 --steps "$STEPS" --net "$net" >> "$results"
  for layout in nchw channels_last; do
    /usr/bin/python3 bench/train/pytorch_train_step.py --threads "$THREADS" --batch 128 --steps "$STEPS" --net "$net" --layout "$layout" >> "$results"
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 /usr/bin/python3 bench/train/pytorch_train_step.py --threads "$THREADS" --batch 128 --steps "$STEPS" --net "$net" --layout "$layout" | sed 's/^pytorch-\([a-z_]*\)/pytorch-\1+hugetlb/' >> "$results"
  done
done
/usr/bin/python3 - "$results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
print("| net | mode | staticnet img/s | best PyTorch img/s (variant) | ratio | staticnet peak RSS MB | PyTorch peak RSS MB (that variant) |")
print("|---|---|---:|---:|---:|---:|---:|")
for net in ("s9", "s7_dilated"):
    for mode in ("train", "infer"):
        ours = [r for r in rows if r[0] == "staticnet" and r[1] == net and r[2] == mode]
        theirs = [r for r in rows if r[0].startswith("pytorch") and r[1] == net and r[2] == mode]
        if not ours or not theirs:
            continue
        best = max(theirs, key=lambda r: float(r[3]))
        o = ours[0]
        print("| %s | %s | %.1f | %.1f (%s) | %.2fx | %s | %s |" % (net, mode, float(o[3]), float(best[3]), best[0],
              float(o[3]) / float(best[3]), o[4], best[4]))
print()
print("all variants:")
for r in rows:
    print("  " + " ".join(r))
PY
rm -f "$results"

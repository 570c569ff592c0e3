#!/usr/bin/env bash
# Side-by-side CPU throughput: staticnet vs PyTorch (Debian's python3-torch),
# same thread count, batch 128, training step (forward + backward + SGD) and
# inference, for the S9 and S7-dilated reference networks. PyTorch runs NCHW
# and channels_last, each with glibc's default malloc and with
# GLIBC_TUNABLES=glibc.malloc.hugetlb=1; its fastest variant is the baseline.
# Each measurement runs in its own process (peak RSS is per process). The
# whole set runs ROUNDS times, interleaved, and every variant keeps its best
# round: on a shared (virtual) machine that is the least disturbed figure, and
# both sides get the same treatment. The ratio of each round (staticnet against
# the best PyTorch variant of that round) and their median are printed too.
# A second table gives the GFLOP/s of staticnet's 1x1 convolutions in the
# training step (from its per-layer profile) against the fp32 FMA peak of the
# cores used, measured with all of them running FMAs at once.
#   bench/train/compare.sh [build-dir] [threads] [steps] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build-bench}
THREADS=${2:-2}
STEPS=${3:-3}
ROUNDS=${4:-2}
BIN="$BUILD/bench/staticnet_train_step"
[ -x "$BIN" ] || { echo "build $BIN first: cmake -S . -B $BUILD -DSTATICNET_BUILD_BENCHMARKS=ON && cmake --build $BUILD --target staticnet_train_step"; exit 1; }
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq "$ROUNDS"); do
  echo "round $round" >> "$results"
  for net in s7_dilated s9; do
    "$BIN" --threads "$THREADS" --batch 128 --steps "$STEPS" --net "$net" --profile 1 2>/dev/null >> "$results"
    for layout in nchw channels_last; do
      /usr/bin/python3 bench/train/pytorch_train_step.py --threads "$THREADS" --batch 128 --steps "$STEPS" --net "$net" --layout "$layout" >> "$results"
      GLIBC_TUNABLES=glibc.malloc.hugetlb=1 /usr/bin/python3 bench/train/pytorch_train_step.py --threads "$THREADS" --batch 128 --steps "$STEPS" --net "$net" --layout "$layout" | sed 's/^pytorch-\([a-z_]*\)/pytorch-\1+hugetlb/' >> "$results"
    done
  done
done
/usr/bin/python3 - "$results" "$ROUNDS" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
# Rows of each round, for the per-round ratios.
rounds, cur = [], None
for r in rows:
    if r[0] == "round":
        cur = []
        rounds.append(cur)
    elif cur is not None and r[0] != "conv1x1":
        cur.append(r)
rows = [r for r in rows if r[0] != "round"]
runs = [r for r in rows if r[0] != "conv1x1"]
best = {}
for r in runs:
    key = (r[0], r[1], r[2])
    if key not in best or float(r[3]) > float(best[key][3]):
        best[key] = r
print("Best of %s rounds per variant." % sys.argv[2])
print()
print("| net | mode | staticnet img/s | best PyTorch img/s (variant) | ratio | staticnet peak RSS MB | PyTorch peak RSS MB (that variant) |")
print("|---|---|---:|---:|---:|---:|---:|")
for net in ("s9", "s7_dilated"):
    for mode in ("train", "infer"):
        ours = best.get(("staticnet", net, mode))
        theirs = [r for k, r in best.items() if k[0].startswith("pytorch") and k[1] == net and k[2] == mode]
        if not ours or not theirs:
            continue
        b = max(theirs, key=lambda r: float(r[3]))
        print("| %s | %s | %.1f | %.1f (%s) | %.2fx | %s | %s |" % (net, mode, float(ours[3]), float(b[3]), b[0],
              float(ours[3]) / float(b[3]), ours[4], b[4]))
print()
print("Per round (staticnet / the best PyTorch variant of the same round), since a single")
print("best-of figure on a noisy machine can pair a lucky round of one side with an")
print("unlucky one of the other:")
print()
print("| net | mode | ratio per round | median |")
print("|---|---|---|---:|")
for net in ("s9", "s7_dilated"):
    for mode in ("train", "infer"):
        ratios = []
        for rr in rounds:
            ours = [float(r[3]) for r in rr if r[0] == "staticnet" and r[1] == net and r[2] == mode]
            theirs = [float(r[3]) for r in rr if r[0].startswith("pytorch") and r[1] == net and r[2] == mode]
            if ours and theirs:
                ratios.append(ours[0] / max(theirs))
        if ratios:
            med = sorted(ratios)[len(ratios) // 2] if len(ratios) % 2 else \
                0.5 * (sorted(ratios)[len(ratios) // 2 - 1] + sorted(ratios)[len(ratios) // 2])
            print("| %s | %s | %s | %.2fx |" % (net, mode, ", ".join("%.2fx" % x for x in ratios), med))
pw = {}
for r in rows:
    if r[0] != "conv1x1":
        continue
    key = (r[1], r[2], r[3])
    fwd, bwd, peak = float(r[4]), float(r[5]), float(r[6])
    old = pw.get(key, (0.0, 0.0, 0.0))
    pw[key] = (max(old[0], fwd), max(old[1], bwd), max(old[2], peak))
if pw:
    print()
    print("1x1 convolutions in the staticnet training step (best round), GFLOP/s and share of the fp32 peak of the cores used:")
    print()
    print("| net | layer | c_in x c_out @ plane | forward GFLOP/s | % of peak | backward GFLOP/s | % of peak | peak GFLOP/s |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for (net, layer, shape), (f, b, p) in pw.items():
        print("| %s | %s | %s | %.1f | %.0f%% | %.1f | %.0f%% | %.1f |" % (net, layer, shape, f, 100 * f / p, b, 100 * b / p, p))
print()
print("all runs (variant, net, mode, images/s, peak RSS MB):")
for r in runs:
    print("  " + " ".join(r))
PY

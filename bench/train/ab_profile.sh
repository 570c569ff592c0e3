#!/usr/bin/env bash
# A/B comparison of two (or more) builds of staticnet_train_step, layer by
# layer, on a machine whose speed drifts: the binaries run alternately, ROUNDS
# times each, with --profile 1, and for every conv layer (and for all
# BatchNorms together) the smallest forward and backward time per step over
# the rounds is printed, with the best and the median images/s. The smallest
# time is the least disturbed one, for each binary alike.
#   bench/train/ab_profile.sh ROUNDS BIN_A BIN_B [BIN_C ...]
#   NET=s9 STEPS=5 bench/train/ab_profile.sh 5 old/staticnet_train_step new/staticnet_train_step
# (keep a copy of the old binary before rebuilding: cp build-bench/bench/staticnet_train_step /tmp/old)
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,10p "$0"; exit 1; }
ROUNDS=$1
shift
NET=${NET:-s7_dilated}
STEPS=${STEPS:-5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$ROUNDS"); do
  for i in $(seq $#); do
    bin=${!i}
    "$bin" --net "$NET" --steps "$STEPS" --profile 1 2>&1 |
      awk -v id="$i" -v s="$STEPS" '
        / train /                     { print id, "images/s", $4, 0 }
        /^(Conv|BatchNorm|Adaptive)/  { k = $1; if (k ~ /^BatchNorm/) k = "BatchNorm2d(all)"; if (k ~ /^Adaptive/) k = "AdaptiveAvgPool2d(all)"
                                        f[k] += $2; b[k] += $3 }
        END                           { for (k in f) print id, k, f[k] / s, b[k] / s }' >> "$out"
  done
done
python3 - "$out" "$@" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    i, key, a, b = line.split()
    rows[(key, int(i))].append((float(a), float(b)))
bins = sys.argv[2:]
for i, b in enumerate(bins, 1):
    print(f"[{i}] {b}")
keys = sorted({k for k, _ in rows}, key=lambda k: (k != "images/s", k))
print(f"{'layer':24s}" + "".join(f" | [{i}] fwd ms  bwd ms" for i in range(1, len(bins) + 1)))
for k in keys:
    cells = []
    for i in range(1, len(bins) + 1):
        v = rows.get((k, i), [])
        if not v:
            cells.append(" | " + " " * 18)
        elif k == "images/s":
            xs = sorted(x for x, _ in v)
            cells.append(f" | best {xs[-1]:6.1f} med {statistics.median(xs):6.1f}")
        else:
            cells.append(f" | {min(x for x, _ in v):8.2f} {min(y for _, y in v):7.2f}")
    print(f"{k:24s}" + "".join(cells))
PY

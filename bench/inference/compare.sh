#!/usr/bin/env bash
# Side-by-side CPU benchmark, one interleaved run (issue 20 item 4):
# staticnet against PyTorch (Debian's python3-torch) and ONNX Runtime's CPU
# execution provider, same thread count, for the S9 and S7-dilated reference
# networks (examples/assignments/networks.hpp) and the Fashion-MNIST example's
# network (examples/fashion_mnist/fashion_net.hpp, input 1x28x28).
#
#   bench/inference/compare.sh [build-dir] [threads] [rounds]     (defaults: build-bench 2 3)
#
# Inference, batch 1, 8, 64 and 128:
#   staticnet  sn::Predictor<Net, Batch> (inference_compare; BatchNorm folded)
#   PyTorch    eval(), NCHW and channels_last, each under torch.no_grad() and
#              torch.inference_mode() (pytorch_infer.py)
#   ORT        the same PyTorch models exported to ONNX (eval, dynamic batch
#              axis), CPUExecutionProvider, intra_op_num_threads = threads,
#              inter_op 1, sequential, ORT_ENABLE_ALL (ort_infer.py)
# Training step (forward + backward + SGD with momentum and weight decay),
# batch 64 and 128: staticnet_train_step against pytorch_train_step.py
# (NCHW and channels_last); TRAIN=0 skips it.
#
# Every measurement runs in its own process (its peak RSS is that process's,
# from getrusage). A round runs every (net, batch, engine) once, and the whole
# set runs ROUNDS times, interleaved (every other round in reverse engine
# order), so a noisy machine disturbs all engines alike. Within a process the
# figure is batch / the median call (CALLS_<batch> timed calls after WARMUP
# untimed ones; batch 1 also gives the median and nearest-rank p99 latency of
# its >= 200 calls). The report (report.py) gives each variant's best round,
# the ratio staticnet / best peer of every round and their median; the raw
# lines are kept in <build-dir>/inference_compare.txt (report.py FILE reprints).
#
# Needs: the build targets inference_compare and staticnet_train_step
#   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSTATICNET_BUILD_BENCHMARKS=ON
#   cmake --build build-bench --target inference_compare staticnet_train_step
# /usr/bin/python3 with torch (python3-torch), and a Python with onnxruntime
# (benchmarks only, never tests or CI), by default the venv bench/.venv-ort:
#   /usr/bin/python3 -m venv --system-site-packages bench/.venv-ort && bench/.venv-ort/bin/pip install onnxruntime
# (ORT_PYTHON=... picks another; ORT=0 leaves ONNX Runtime out).
# Knobs: NETS="s9 s7_dilated fashion", BATCHES="1 8 64 128", TRAIN_BATCHES="64 128",
# CALLS_1=200 CALLS_8=40 CALLS_64=10 CALLS_128=6, WARMUP=5, TRAIN_STEPS=3.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build-bench}
THREADS=${2:-2}
ROUNDS=${3:-3}
NETS=${NETS:-s9 s7_dilated fashion}
BATCHES=${BATCHES:-1 8 64 128}
TRAIN_BATCHES=${TRAIN_BATCHES:-64 128}
TRAIN=${TRAIN:-1}
ORT=${ORT:-1}
ORT_PYTHON=${ORT_PYTHON:-bench/.venv-ort/bin/python}
WARMUP=${WARMUP:-5}
TRAIN_STEPS=${TRAIN_STEPS:-3}
TORCH=/usr/bin/python3
INFER="$BUILD/bench/inference_compare"
TRAINBIN="$BUILD/bench/staticnet_train_step"
for b in "$INFER" $([ "$TRAIN" = 1 ] && echo "$TRAINBIN"); do
  [ -x "$b" ] || { echo "build $b first: cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=Release -DSTATICNET_BUILD_BENCHMARKS=ON && cmake --build $BUILD --target inference_compare staticnet_train_step"; exit 1; }
done
calls() { local v="CALLS_$1"; local d; case $1 in 1) d=200 ;; 8) d=40 ;; 64) d=10 ;; *) d=6 ;; esac; echo "${!v:-$d}"; }

ONNX_DIR="$BUILD/onnx"
if [ "$ORT" = 1 ]; then
  [ -x "$ORT_PYTHON" ] || { echo "no $ORT_PYTHON: /usr/bin/python3 -m venv --system-site-packages bench/.venv-ort && bench/.venv-ort/bin/pip install onnxruntime (or ORT=0)"; exit 1; }
  "$TORCH" bench/inference/pytorch_infer.py --export "$ONNX_DIR" > /dev/null
  ORT_VERSION=$("$ORT_PYTHON" bench/inference/ort_infer.py --version)
fi

OUT="$BUILD/inference_compare.txt"
{
  echo "# $(date -u +%Y-%m-%dT%H:%MZ) threads $THREADS rounds $ROUNDS; $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores"
  echo "# $(tr -d '\n' < /proc/loadavg | cut -d' ' -f1-3 | sed 's/^/load average at the start: /'); $("$INFER" --isa | head -1)"
  echo "# staticnet $(git rev-parse --short HEAD 2>/dev/null || echo '?'); torch $("$TORCH" -c 'import torch; print(torch.__version__)')${ORT_VERSION:+; onnxruntime $ORT_VERSION}"
} > "$OUT"

# One inference measurement per engine variant of (net, batch).
infer_engines() {
  local net=$1 batch=$2 c; c=$(calls "$batch")
  local cmds=(
    "$INFER --threads $THREADS --net $net --batch $batch --calls $c --warmup $WARMUP"
    "$TORCH bench/inference/pytorch_infer.py --threads $THREADS --net $net --batch $batch --calls $c --warmup $WARMUP --layout nchw"
    "$TORCH bench/inference/pytorch_infer.py --threads $THREADS --net $net --batch $batch --calls $c --warmup $WARMUP --layout channels_last"
  )
  [ "$ORT" = 1 ] && cmds+=("$ORT_PYTHON bench/inference/ort_infer.py --threads $THREADS --net $net --batch $batch --calls $c --warmup $WARMUP --model $ONNX_DIR/$net.onnx")
  run_all "${cmds[@]}"
}
train_engines() {
  local net=$1 batch=$2
  local cmds=(
    "$TRAINBIN --threads $THREADS --net $net --batch $batch --steps $TRAIN_STEPS"
    "$TORCH bench/train/pytorch_train_step.py --threads $THREADS --net $net --batch $batch --steps $TRAIN_STEPS --layout nchw"
    "$TORCH bench/train/pytorch_train_step.py --threads $THREADS --net $net --batch $batch --steps $TRAIN_STEPS --layout channels_last"
  )
  # staticnet_train_step and pytorch_train_step.py print "<engine> <net> train|infer <img/s> <RSS MB>":
  # keep the training step as "train <engine> <net> <batch> <img/s> <RSS MB>".
  run_all "${cmds[@]}" | awk -v b="$batch" '$3 == "train" { print "train", $1, $2, b, $4, $5 }'
}
# Runs the commands in order, or in reverse order on even rounds.
run_all() {
  local cmds=("$@") i
  if (( round % 2 == 0 )); then
    for (( i=${#cmds[@]}-1; i>=0; i-- )); do ${cmds[i]}; done
  else
    for (( i=0; i<${#cmds[@]}; i++ )); do ${cmds[i]}; done
  fi
}

for round in $(seq "$ROUNDS"); do
  echo "round $round" >> "$OUT"
  echo "round $round of $ROUNDS ($(date -u +%H:%M:%S))" >&2
  for net in $NETS; do
    for batch in $BATCHES; do infer_engines "$net" "$batch" >> "$OUT"; done
    if [ "$TRAIN" = 1 ]; then
      for batch in $TRAIN_BATCHES; do train_engines "$net" "$batch" >> "$OUT"; done
    fi
  done
done
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"
"$TORCH" bench/inference/report.py "$OUT"

#!/usr/bin/env bash
# CTest's pytorch.interop: staticnet -> PyTorch -> staticnet.
#   run_interop.sh INTEROP PYTHON WORK_DIR [PROGRAM]
#  1. INTEROP write: every network's exported module, checkpoint, input/output and summaries;
#  2. check_interop.py (PYTHON, with torch): each module loads its checkpoint and gives
#     staticnet's outputs and summaries; it saves PyTorch state_dicts the other way;
#  3. INTEROP read: staticnet loads them and gives PyTorch's outputs, and refuses mismatches;
#  4. tools/checkpoint_to_pytorch.py with an exported module (--module);
#  5. with PROGRAM (s7_groups), its --export-pytorch loads the same checkpoint, and its
#     --torchsummary / --torchinfo print the tables check_interop.py checked.
set -euo pipefail
interop=$1
python=$2
work=$3
program=${4:-}
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "$python" ] || [ "$python" = "NOTFOUND" ] || ! "$python" -c "import torch" 2>/dev/null; then
  echo "pytorch.interop: no python3 with torch ('${python}'): install Debian's python3-torch" \
       "(scripts/install-deps.sh does), or configure with -DSTATICNET_PYTORCH_TESTS=OFF" >&2
  exit 1
fi
rm -rf "$work"
mkdir -p "$work"
echo "== interop write"
"$interop" write "$work"
echo "== check_interop.py ($python)"
"$python" "$src/tests/pytorch/check_interop.py" "$work"
echo "== interop read"
"$interop" read "$work"
echo "== tools/checkpoint_to_pytorch.py --module"
"$python" "$src/tools/checkpoint_to_pytorch.py" "$work/s7_groups.safetensors" --module "$work/s7_groups.py" \
  --check "$work/s7_groups_io.safetensors" --tol 1e-5
if [ -n "$program" ]; then
  echo "== $(basename "$program") --export-pytorch"
  "$program" --export-pytorch "$work/program_export.py"
  "$python" "$work/program_export.py" "$work/s7_groups.safetensors" | grep -E "^loaded|parameters$"
  echo "== $(basename "$program") --torchsummary, --torchinfo"
  "$program" --torchsummary | diff - "$work/s7_groups_torchsummary.txt"
  "$program" --torchinfo | diff - "$work/s7_groups_torchinfo.txt"
fi
echo "pytorch.interop: OK"

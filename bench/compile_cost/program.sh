#!/usr/bin/env bash
# Compile cost of a user's whole training program (issue: "a user's training
# program compiles in 15 s"): the assignment programs examples/assignments/
# s7_dilated.cpp (one network, Model, fit, checkpoints, reports) and s9.cpp
# (two networks), compiled to an object at -O2 as a user's build would, in
# both modes:
#   compiled     what staticnet::staticnet gives: -DSTATICNET_COMPILED_KERNELS=1
#                -DSTATICNET_COMPILED_REPORTS=1, no -march flag (the kernels and
#                reports come from libstaticnet, which is built once);
#   header-only  what staticnet::header_only gives, with -march=native so the
#                inline kernels are the fast ones;
#   +cuda        what staticnet::cuda gives (when the CUDA headers are there):
#                the compiled mode with the GPU engine, whose programs
#                instantiate cuda::Model as well for --device cuda.
# Prints wall seconds and peak RSS (GNU time), the median of REPS runs each.
#   bench/compile_cost/program.sh            # from anywhere; no build directory needed
# Environment: CXX=g++ REPS=3 GNU_TIME=/usr/bin/time PROGRAMS="s7_dilated s9"
set -euo pipefail
cd "$(dirname "$0")/../.."
CXX=${CXX:-g++}
REPS=${REPS:-3}
GNU_TIME=${GNU_TIME:-/usr/bin/time}
PROGRAMS=${PROGRAMS:-s7_dilated s9}
cairo_flags=()
if pkg-config --exists cairo 2>/dev/null; then
  read -r -a cairo_flags <<< "-DSTATICNET_WITH_CAIRO=1 $(pkg-config --cflags cairo)"
fi
common=(-std=c++20 -O2 -Iinclude -Iexamples/assignments "${cairo_flags[@]}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
echo "| program | mode | wall s (median of $REPS) | peak RSS MB |"
echo "|---|---|---:|---:|"
CUDA_INCLUDE=${CUDA_INCLUDE:-/usr/local/cuda/include}
modes=(compiled header-only)
[ -f "$CUDA_INCLUDE/cudnn.h" ] && modes+=(+cuda)
for prog in $PROGRAMS; do
  for mode in "${modes[@]}"; do
    if [ "$mode" = compiled ] || [ "$mode" = +cuda ]; then
      flags=(-DSTATICNET_COMPILED_KERNELS=1)
      [ ${#cairo_flags[@]} -gt 0 ] && flags+=(-DSTATICNET_COMPILED_REPORTS=1)
      [ "$mode" = +cuda ] && flags+=(-DSTATICNET_WITH_CUDA=1 -isystem "$CUDA_INCLUDE")
    else
      flags=(-march=native)
    fi
    : > "$work/t"
    for _ in $(seq "$REPS"); do
      "$GNU_TIME" -f "%e %M" -o "$work/one" "$CXX" "${common[@]}" "${flags[@]}" \
        -c "examples/assignments/$prog.cpp" -o "$work/$prog.o"
      cat "$work/one" >> "$work/t"
    done
    wall=$(cut -d' ' -f1 "$work/t" | median)
    rss=$(cut -d' ' -f2 "$work/t" | median)
    echo "| $prog.cpp | $mode | $wall | $((rss / 1024)) |"
  done
done
echo
echo "$($CXX --version | head -1), $(nproc) cores; the compiled mode's libstaticnet itself (3 kernel variants, dispatch, reports) is built once per installation."

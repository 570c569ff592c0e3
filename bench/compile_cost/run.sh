#!/usr/bin/env bash
# Compile-cost benchmark of staticnet's static checks ("compile time is a feature").
#
#   bench/compile_cost/run.sh            # from the repository root; no build directory needed
#
# Generates the translation units (bench/compile_cost/generate.py) into a
# temporary directory, compiles each one with g++ (and clang++ when found),
# both as an object (-c -O0) and with -fsyntax-only, REPS times, under
# GNU time (-f "%e %M %U %S": wall seconds, peak RSS in KB, CPU seconds), and
# prints a markdown table of the medians. "over baseline" is a TU's median
# minus the median of baseline.cpp (HEADER alone) for the same compiler and
# mode: the cost of the static checks themselves. umbrella.cpp (the whole
# library's <staticnet/staticnet.hpp>, several seconds) is compiled with
# -fsyntax-only only. Every TU static_asserts figures computed independently
# by the generator, so a compile error is a failed cross-check and the script
# stops with the compiler's message.
#
# Environment (all optional):
#   GXX=g++ CLANGXX=clang++   compilers (CLANGXX= to skip clang)
#   REPS=3                    repetitions per measurement (the median is reported)
#   LAYERS="100 200 400"      sizes of the generated networks (multiples of 4)
#   HEADER=staticnet/core.hpp the header the TUs include (staticnet/staticnet.hpp:
#                             the umbrella; then it is also the baseline)
#   EXTRA_FLAGS=              added to every compile command
#   PYTHON=python3 GNU_TIME=/usr/bin/time
#   KEEP_DIR=path             write the generated TUs there and keep them
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
GXX=${GXX-g++}
CLANGXX=${CLANGXX-clang++}
REPS=${REPS:-3}
LAYERS=${LAYERS:-100 200 400}
HEADER=${HEADER:-staticnet/core.hpp}
EXTRA_FLAGS=${EXTRA_FLAGS:-}
PYTHON=${PYTHON:-python3}
GNU_TIME=${GNU_TIME:-/usr/bin/time}

if ! "$GNU_TIME" -f "%e %M" true >/dev/null 2>&1; then
  echo "run.sh: GNU time not found at $GNU_TIME (Debian: apt-get install time)" >&2
  exit 2
fi

if [[ -n ${KEEP_DIR:-} ]]; then
  WORK=$KEEP_DIR
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/staticnet-compile-cost.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
fi

# shellcheck disable=SC2086
"$PYTHON" "$ROOT/bench/compile_cost/generate.py" "$WORK" --layers $LAYERS --header "$HEADER"

compilers=()
for c in "$GXX" "$CLANGXX"; do
  [[ -n $c ]] && command -v "$c" >/dev/null 2>&1 && compilers+=("$c")
done
if [[ ${#compilers[@]} -eq 0 ]]; then
  echo "run.sh: no compiler found (GXX=$GXX CLANGXX=$CLANGXX)" >&2
  exit 2
fi

FLAGS=(-std=c++20 -I"$ROOT/include" -I"$ROOT/examples/assignments")
# shellcheck disable=SC2206
FLAGS+=($EXTRA_FLAGS)

median() {  # numbers on stdin, one a line
  sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# One measurement: compiler, mode, TU -> "wall_s peak_kb cpu_s" (each the median of REPS runs).
measure() {
  local cxx=$1 mode=$2 tu=$3 mode_flags secs=() kbs=() cpus=() i s kb us ss
  if [[ $mode == "-c -O0" ]]; then
    mode_flags=(-c -O0 -o "$WORK/${tu%.cpp}.o")
  else
    mode_flags=(-fsyntax-only)
  fi
  for ((i = 0; i < REPS; ++i)); do
    if ! "$GNU_TIME" -f "%e %M %U %S" -o "$WORK/time.txt" \
        "$cxx" "${FLAGS[@]}" "${mode_flags[@]}" "$WORK/$tu" 2>"$WORK/stderr.txt"; then
      echo "run.sh: a static check failed (staticnet and generate.py disagree) or the compile broke:" >&2
      echo "  $cxx ${FLAGS[*]} ${mode_flags[*]} $WORK/$tu" >&2
      cat "$WORK/stderr.txt" >&2
      exit 1
    fi
    read -r s kb us ss < <(tail -n 1 "$WORK/time.txt")
    secs+=("$s")
    kbs+=("$kb")
    cpus+=("$(awk -v u="$us" -v s="$ss" 'BEGIN { print u + s }')")
  done
  echo "$(printf '%s\n' "${secs[@]}" | median) $(printf '%s\n' "${kbs[@]}" | median)" \
       "$(printf '%s\n' "${cpus[@]}" | median)"
}

version() { "$1" --version | head -n 1; }

echo "Compile cost of staticnet's static checks: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
for c in "${compilers[@]}"; do echo "- $c: $(version "$c")"; done
echo "- TUs include <$HEADER>; flags: ${FLAGS[*]/#-I$ROOT/-I.} (+ -c -O0 -o x.o, or -fsyntax-only); median of $REPS runs"
echo "- seconds: wall (GNU time %e); cpu: user + sys (%U + %S); peak MB: max RSS (%M / 1024)"
echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (wall times are only meaningful on an idle machine)"
echo "- over baseline: this TU's median minus baseline.cpp's (same compiler and mode): wall s (cpu s), peak MB"
echo
echo "| compiler | mode | TU | layers | seconds | cpu s | peak MB | over baseline |"
echo "|---|---|---|---:|---:|---:|---:|---:|"

tus=() tu_layers=() tu_modes=()
while IFS=$'\t' read -r tu layers modes _desc; do
  tus+=("$tu")
  tu_layers+=("$layers")
  tu_modes+=("$modes")
done <"$WORK/manifest.tsv"

for cxx in "${compilers[@]}"; do
  # Untimed warm-up: the first run after a while pays for cold page caches.
  "$cxx" "${FLAGS[@]}" -fsyntax-only "$WORK/baseline.cpp"
  for mode in "-c -O0" "-fsyntax-only"; do
    base_s="" base_kb=""
    for i in "${!tus[@]}"; do
      tu=${tus[$i]}
      [[ ${tu_modes[$i]} == syntax && $mode != -fsyntax-only ]] && continue
      result=$(measure "$cxx" "$mode" "$tu") || exit 1
      read -r s kb cpu <<<"$result"
      if [[ $tu == baseline.cpp ]]; then
        base_s=$s base_kb=$kb base_cpu=$cpu
        over="—"
      else
        over=$(awk -v s="$s" -v b="$base_s" -v c="$cpu" -v bc="$base_cpu" -v k="$kb" -v bk="$base_kb" \
          'BEGIN { printf "%+.2f s (cpu %+.2f s), %+.1f MB", s - b, c - bc, (k - bk) / 1024 }')
      fi
      layers=${tu_layers[$i]}
      printf '| %s | %s | %s | %s | %.2f | %.2f | %.1f | %s |\n' "$(basename "$cxx")" "$mode" "$tu" \
        "$layers" "$s" "$cpu" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')" "$over"
    done
  done
done

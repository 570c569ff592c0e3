#!/usr/bin/env bash
# Compiles every ```cpp block of docs/*.md, so the documentation cannot drift
# from the headers. Run from anywhere:  docs/examples/check_docs.sh [g++ clang++ ...]
#
# Conventions for a ```cpp block (its first line decides):
#   // file: docs/examples/NAME.cpp    the rest of the block must equal that
#                                      file, which is compiled on its own
#   // compile-fail: TEXT              the block, after the file's earlier blocks,
#                                      must FAIL to compile with TEXT in the output
#   // compile-fail(CXX): TEXT         the same, but only compilers whose command
#                                      contains CXX must fail; the others must
#                                      compile it (g++ 12 accepts what clang 14 rejects)
#   // standalone                      compiled on its own
#   anything else                      compiled after the file's earlier plain
#                                      blocks (a document builds up one program)
set -euo pipefail
cd "$(dirname "$0")/../.."
compilers=("$@")
if [ ${#compilers[@]} -eq 0 ]; then
  for c in g++ clang++; do command -v "$c" >/dev/null && compilers+=("$c"); done
fi
flags=(-std=c++20 -Wall -Wextra -Iinclude -fsyntax-only)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checked=0

compile() {  # compile <compiler> <source> <log>
  "$1" "${flags[@]}" -x c++ "$2" >"$3" 2>&1
}

for doc in docs/*.md; do
  rm -f "$work"/block_*.cpp
  # Split the document's cpp blocks into numbered files.
  awk -v dir="$work" '
    /^```cpp[[:space:]]*$/ { n++; file = sprintf("%s/block_%03d.cpp", dir, n); inside = 1; next }
    inside && /^```[[:space:]]*$/ { inside = 0; close(file); next }
    inside { print > file }
  ' "$doc"
  : >"$work/prefix.cpp"
  for block in "$work"/block_*.cpp; do
    [ -e "$block" ] || continue
    first=$(head -n 1 "$block")
    only=""
    name="$doc#$(basename "$block" .cpp | sed 's/block_0*//')"
    case "$first" in
      "// file: "*)
        path=${first#// file: }
        if ! tail -n +2 "$block" | diff -q "$path" - >/dev/null; then
          echo "FAIL $name: differs from $path"; failures=$((failures + 1)); continue
        fi
        src="$path"; expect="" ;;
      "// compile-fail"*)
        rest=${first#// compile-fail}
        only=""
        if [ "${rest:0:1}" = "(" ]; then only=${rest#(}; only=${only%%)*}; rest=${rest#*)}; fi
        expect=${rest#: }
        cat "$work/prefix.cpp" "$block" >"$work/tu.cpp"; src="$work/tu.cpp" ;;
      "// standalone"*)
        src="$block"; expect="" ;;
      *)
        cat "$work/prefix.cpp" "$block" >"$work/tu.cpp"; cp "$work/tu.cpp" "$work/prefix.next"
        src="$work/tu.cpp"; expect="" ;;
    esac
    for cxx in "${compilers[@]}"; do
      checked=$((checked + 1))
      this_expect=$expect
      if [ -n "${only:-}" ] && [[ "$cxx" != *"$only"* ]]; then this_expect=""; fi
      if [ -z "$this_expect" ]; then
        if ! compile "$cxx" "$src" "$work/log"; then
          echo "FAIL $name ($cxx): does not compile"; head -n 20 "$work/log"; failures=$((failures + 1))
        fi
      else
        if compile "$cxx" "$src" "$work/log"; then
          echo "FAIL $name ($cxx): compiles, expected an error with: $this_expect"; failures=$((failures + 1))
        elif ! grep -qF -- "$this_expect" "$work/log"; then
          echo "FAIL $name ($cxx): error without: $this_expect"; head -n 20 "$work/log"; failures=$((failures + 1))
        fi
      fi
    done
    if [ -e "$work/prefix.next" ]; then mv "$work/prefix.next" "$work/prefix.cpp"; fi
  done
done
echo "check_docs: $checked compilations, $failures failures (${compilers[*]})"
[ "$failures" -eq 0 ]

#!/usr/bin/env bash
# Copies the Debian build dependencies that the GPU device machine lacks into
# device-deps/ (git-ignored), laid out as a CMake prefix that mirrors /usr:
#   device-deps/include/                      xsimd/ xtl/ xtensor/ gtest/ gmock/ zlib.h zconf.h
#   device-deps/lib/<multiarch>/              libgtest.a libgtest_main.a libgmock*.a libz.a
#   device-deps/lib/<multiarch>/cmake/        xsimd/ xtensor/ GTest/ (Debian's config files)
#   device-deps/share/cmake/xtl/              xtl's config files
#   device-deps/src/googletest/               GoogleTest's sources (scripts/gpu-check.sh
#                                             builds them there if the static libraries
#                                             built here do not link there)
#   device-deps/MANIFEST                      package versions, compiler, file list
# Debian's config files find their prefix relative to their own location, so
# `cmake -DCMAKE_PREFIX_PATH=$PWD/device-deps` finds everything there. The
# device machine is reached with `carry: ["device-deps"]` (64 MiB limit for
# everything that travels; this is about 10 MiB).
#   scripts/vendor-device-deps.sh            # copy, then check with a throwaway CMake project
#   scripts/vendor-device-deps.sh --no-check # copy only
# Needs the packages of scripts/install-deps.sh (libxsimd-dev, xtl-dev,
# libxtensor-dev, libgtest-dev, libgmock-dev, googletest, zlib1g-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${DEVICE_DEPS_DIR:-$PWD/device-deps}
CHECK=1
for a in "$@"; do
  case "$a" in
    --no-check) CHECK=0 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "vendor-device-deps: unknown option $a" >&2; exit 2 ;;
  esac
done

if [ "$(uname -m)" != "x86_64" ]; then
  echo "vendor-device-deps: this machine is $(uname -m); the device machine is x86-64, so the static" >&2
  echo "  libraries copied from here would not link there. Run this on an x86-64 Debian machine." >&2
  exit 1
fi
command -v dpkg-query >/dev/null || { echo "vendor-device-deps: needs Debian's dpkg-query" >&2; exit 1; }
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

# package -> required (1) or optional (0)
REQUIRED=(libxsimd-dev xtl-dev libxtensor-dev libgtest-dev zlib1g-dev)
OPTIONAL=(libgmock-dev googletest)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for p in "${REQUIRED[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "vendor-device-deps: missing Debian packages: ${missing[*]} (run scripts/install-deps.sh, or apt-get install them)" >&2
  exit 1
fi

# Only what a build needs: headers, static libraries, CMake and pkg-config
# files, GoogleTest's sources. Never shared libraries (the device has its own
# libc/libstdc++; a libz.so symlink would point at a file that is not copied).
wanted() {
  case "$1" in
    /usr/share/doc/*|/usr/share/man/*|/usr/share/lintian/*) return 1 ;;
    *.so|*.so.*) return 1 ;;
    /usr/include/*|/usr/src/googletest/*) return 0 ;;
    /usr/lib/"$MULTIARCH"/*.a) return 0 ;;
    /usr/lib/"$MULTIARCH"/cmake/*|/usr/lib/cmake/*|/usr/share/cmake/*) return 0 ;;
    /usr/lib/"$MULTIARCH"/pkgconfig/*|/usr/share/pkgconfig/*) return 0 ;;
  esac
  return 1
}

rm -rf "$DEST"
mkdir -p "$DEST"
count=0
pkgs=("${REQUIRED[@]}")
for p in "${OPTIONAL[@]}"; do
  if installed "$p"; then pkgs+=("$p"); else echo "vendor-device-deps: note: $p not installed, skipped"; fi
done
for p in "${pkgs[@]}"; do
  while IFS= read -r f; do
    if [ ! -f "$f" ] || [ -L "$f" ]; then continue; fi   # regular files only; folders come with them
    wanted "$f" || continue
    rel=${f#/usr/}
    mkdir -p "$DEST/$(dirname "$rel")"
    cp -p "$f" "$DEST/$rel"
    count=$((count + 1))
  done < <(dpkg -L "$p")
done
# The prefix must hold each package CMake is asked for.
for f in include/xsimd/xsimd.hpp include/xtl/xtl_config.hpp include/xtensor/xtensor.hpp include/gtest/gtest.h \
         include/zlib.h include/zconf.h "lib/$MULTIARCH/libz.a" "lib/$MULTIARCH/libgtest.a" "lib/$MULTIARCH/libgtest_main.a" \
         "lib/$MULTIARCH/cmake/xsimd/xsimdConfig.cmake" "lib/$MULTIARCH/cmake/xtensor/xtensorConfig.cmake" \
         "lib/$MULTIARCH/cmake/GTest/GTestConfig.cmake" share/cmake/xtl/xtlConfig.cmake; do
  [ -f "$DEST/$f" ] || { echo "vendor-device-deps: expected $DEST/$f after copying; not there" >&2; exit 1; }
done

{
  echo "# device-deps: copied by scripts/vendor-device-deps.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# from $(sed -n 's/^PRETTY_NAME=//p' /etc/os-release | tr -d '"'), $(uname -m), multiarch $MULTIARCH"
  echo "# static libraries built by Debian with: $(gcc --version 2>/dev/null | head -1)"
  echo "multiarch=$MULTIARCH"
  for p in "${pkgs[@]}"; do echo "package $p $(dpkg-query -W -f='${Version}' "$p")"; done
  (cd "$DEST" && find . -type f ! -name MANIFEST | sort)
} > "$DEST/MANIFEST"

size_kb=$(du -sk "$DEST" | cut -f1)
echo "vendor-device-deps: $count files, $((size_kb / 1024)) MiB ($size_kb KiB) in $DEST"
if [ "$size_kb" -gt $((32 * 1024)) ]; then
  echo "vendor-device-deps: over 32 MiB; everything that travels to the device must stay under 64 MiB" >&2
  exit 1
fi

[ "$CHECK" = 1 ] || exit 0

# -------------------------------------------------------------- check --
# A throwaway project that finds every package with the system's own search
# paths switched off (only CMAKE_PREFIX_PATH is searched), requires each to
# resolve inside the prefix, and builds and runs a GoogleTest program that
# uses xtensor (with xsimd) and zlib.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(device_deps_check CXX)
set(CMAKE_CXX_STANDARD 20)
find_package(Threads REQUIRED)
find_package(xtl REQUIRED)
find_package(xsimd 8 REQUIRED)
find_package(xtensor REQUIRED)
find_package(ZLIB REQUIRED)
find_package(GTest REQUIRED)
foreach(v xtl_DIR xsimd_DIR xtensor_DIR GTest_DIR ZLIB_INCLUDE_DIR ZLIB_LIBRARY_RELEASE)
  if(NOT "${${v}}" MATCHES "^${DEPS}/")
    message(FATAL_ERROR "${v} = '${${v}}' is not inside ${DEPS}")
  endif()
  message(STATUS "device-deps check: ${v} = ${${v}}")
endforeach()
add_executable(check check.cpp)
target_link_libraries(check PRIVATE xtensor xsimd ZLIB::ZLIB GTest::gtest_main Threads::Threads)
CM
cat > "$work/check.cpp" <<'CPP'
#include <gtest/gtest.h>
#include <xsimd/xsimd.hpp>
#include <xtensor/xtensor.hpp>
#include <zlib.h>
#include <cstring>
TEST(DeviceDeps, XtensorZlib) {
  xt::xtensor<float, 2> a = {{1.f, 2.f}, {3.f, 4.f}};
  EXPECT_EQ(a(1, 0), 3.f);
  const char* s = "staticnet";
  EXPECT_NE(crc32(0L, reinterpret_cast<const Bytef*>(s), static_cast<uInt>(std::strlen(s))), 0u);
  EXPECT_GE(xsimd::batch<float>::size, 1u);
}
CPP
# The tools are named, since PATH is not searched either.
cmake -S "$work" -B "$work/build" -DDEPS="$DEST" -DCMAKE_PREFIX_PATH="$DEST" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CXX_COMPILER="$(command -v c++)" -DCMAKE_MAKE_PROGRAM="$(command -v make)" \
      -DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF -DCMAKE_FIND_USE_SYSTEM_ENVIRONMENT_PATH=OFF \
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
      > "$work/configure.log" 2>&1 || { cat "$work/configure.log"; echo "vendor-device-deps: check FAILED (configure)" >&2; exit 1; }
grep "device-deps check:" "$work/configure.log"
cmake --build "$work/build" > "$work/build.log" 2>&1 || { cat "$work/build.log"; echo "vendor-device-deps: check FAILED (build)" >&2; exit 1; }
"$work/build/check" --gtest_brief=1 > "$work/run.log" 2>&1 || { cat "$work/run.log"; echo "vendor-device-deps: check FAILED (run)" >&2; exit 1; }
echo "vendor-device-deps: check passed (every package found in $DEST only; a gtest + xtensor + zlib program built and ran)"

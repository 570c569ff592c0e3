#!/usr/bin/env bash
# Installs what staticnet's build, tests and examples need on Debian 12.
# Uses sudo when not run as root.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PACKAGES=(cmake g++ make clang libclang-rt-14-dev libgtest-dev libbenchmark-dev libxtensor-dev libxsimd-dev
          libboost-dev zlib1g-dev time libcairo2-dev pkg-config python3-torch)
if [ "${STATICNET_WITH_DATA:-0}" = "1" ]; then PACKAGES+=(dataset-fashion-mnist); fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

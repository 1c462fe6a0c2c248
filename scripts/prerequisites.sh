#!/usr/bin/env bash
# Installs the Debian packages and npm tools the build and tests need (and with "bench", the perf harness), only when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(redis-server redis-sentinel redis-tools postgresql mariadb-server nginx-light haproxy wrk
          clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 wabt binaryen openssl prometheus)
# `scripts/prerequisites.sh bench`: the perf harness also profiles, traces and counts instructions (perf/README.md).
if [ "${1:-}" = bench ]; then
  packages+=(linux-perf valgrind)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ -f plugins/package.json ] && [ ! -d plugins/node_modules ]; then
  (cd plugins && npm ci --no-audit --no-fund --loglevel=error)
fi

#!/usr/bin/env bash
# Builds native/kith-ort/build/kith_ort.node with the system C++ compiler and Node's own headers
# (Debian's nodejs ships them in /usr/include/node). No node-gyp: one translation unit, N-API only.
#   bash native/kith-ort/build.sh        (scripts/setup.sh runs it; safe to run again)
set -euo pipefail
cd "$(dirname "$0")"
inc="$(dirname "$(command -v node)")/../include/node"
[[ -f "$inc/node_api.h" ]] || inc=/usr/include/node
[[ -f "$inc/node_api.h" ]] || { echo "[kith-ort] node_api.h not found (looked in $inc)" >&2; exit 1; }
mkdir -p build
out=build/kith_ort.node
if [[ -f "$out" && "$out" -nt kith_ort.cc && "$out" -nt lora_add.h && "$out" -nt ort_abi.h && "$out" -nt build.sh ]]; then
  exit 0
fi
# -O3 lets the compiler vectorise the kernel's inner loops; -march is left at the baseline so the
# build runs on any x86-64 the package is copied to.
g++ -std=c++17 -O3 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter -Wno-psabi \
  -DNODE_GYP_MODULE_NAME=kith_ort -I"$inc" kith_ort.cc -o "$out.tmp" -ldl
mv "$out.tmp" "$out"
echo "[kith-ort] built $out"

#!/usr/bin/env bash
# Installs what Kith needs on a Debian machine, then the npm packages, then builds the client.
#   bash scripts/setup.sh          what `npm start` needs
#   bash scripts/setup.sh --test   also what the test suites need (Chromium, PyTorch, OpenBLAS, Redis)
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

# Debian packages. g++/make/python3 build better-sqlite3 from source (its prebuilt download is unreachable).
debs=(g++ make python3)
if (( want_test )); then
  # chromium: browser end-to-end tests; python3-torch + numpy: the PyTorch reference and trainers;
  # libopenblas0-pthread: without it Debian's torch uses the reference BLAS (~30x slower matmul).
  debs+=(chromium python3-torch python3-numpy libopenblas0-pthread)
fi
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "[setup] installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  (( EUID != 0 )) && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm packages. `npm install` (not `npm ci`) because npm 11 misreads an optional Windows-only entry
# of the lock file; the lock is still honoured. Install scripts run only for the packages that
# package.json's allowScripts names (better-sqlite3 builds natively; onnxruntime-node's GPU download
# is skipped: its CPU binaries ship inside the package).
if [[ ! -f node_modules/.kith-installed ]] || [[ package-lock.json -nt node_modules/.kith-installed ]]; then
  echo "[setup] installing npm packages (first time: a few minutes, better-sqlite3 compiles)"
  npm install --no-audit --no-fund --loglevel=error
  touch node_modules/.kith-installed
fi
node -e 'new (require("better-sqlite3"))(":memory:").close()' 2>/dev/null || {
  echo "[setup] building better-sqlite3"; npm rebuild better-sqlite3 --loglevel=error; }

# The project's native onnxruntime binding with the kith.LoraAdd kernel (native/kith-ort/README.md):
# one C++ file against Node's headers and the onnxruntime library onnxruntime-node ships.
bash native/kith-ort/build.sh

# The browser client, served by the game server from dist/client.
if node -e 'process.exit(require("./package.json").scripts?.build ? 0 : 1)'; then
  echo "[setup] building the client"
  npm run --silent build >/dev/null
fi
echo "[setup] ready"

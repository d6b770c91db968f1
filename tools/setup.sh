#!/usr/bin/env bash
# One idempotent set-up for a fresh machine (and a quick no-op on a ready one): system packages,
# npm packages (offline-safe: no install scripts that download), the faiss native build, the
# TypeScript build, and the built-in models. Every step skips itself when its output is current.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip   # onnxruntime-node's postinstall fetches CUDA files: keep the CPU build
step() { printf '\n[setup] %s\n' "$*" >&2; }

# 0. Node >= 22.19 first on PATH for everything below: the system Node when recent enough, else the
#    pinned Node 24 LTS installed from the npm registry into ~/.cache/embedflow/node (tools/node-runtime.sh).
. tools/node-runtime.sh
embedflow_use_node
step "node $(node --version) ($(command -v node))"

# 1. System packages (Debian): native build tools, faiss and BLAS for the faiss addons, and Chromium
#    for the RAG example's browser test, PostgreSQL for the cluster tests (tools/postgres.sh starts a
#    throwaway server per test run; the package's own service is not used).
apt_packages=(build-essential cmake libfaiss-dev libopenblas-dev patchelf chromium postgresql)
missing=()
for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get install ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# 2. npm packages, as locked. Install scripts stay off: the two that matter (onnxruntime-node,
#    faiss-node) would download binaries; faiss is built from Debian's sources in step 3 instead.
#    The lock lists every platform's optional packages (@nx/nx-darwin-*, @deno/win32-*, ...) as
#    `npm install` writes them, so installing from it leaves it byte-identical; tools/test.sh fails
#    when set-up changes a tracked file. (A lock written without them is re-expanded by every install:
#    after `npm install <pkg> -w <workspace>`, run a plain `npm install` and commit the lock it leaves.)
stamp=node_modules/.embedflow-install-stamp
want="$(sha256sum package-lock.json | cut -c1-64)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  step "npm install (locked versions, no install scripts)"
  npm install --ignore-scripts --no-audit --no-fund
  # bun's postinstall only links the binary from its platform package (no download).
  npm rebuild bun --no-audit --no-fund >/dev/null
  echo "$want" > "$stamp"
fi

# 3. faiss-node and embedflow's own faiss binding, built from Debian's faiss sources (cached).
if [ -f tools/faiss-build/build.sh ]; then
  step "faiss native build"
  bash tools/faiss-build/build.sh
fi

# 3b. @embedflow/tensor's native compute backend (OpenBLAS, cached); without it tensor falls back to
#     its TypeScript kernels with a warning.
step "tensor native backend"
bash packages/tensor/native/build.sh

# 4. TypeScript build of every package, in dependency order, one tsc process per package (nx caches
#    them). A single `tsc -b` over the whole workspace shares one module-resolution cache across
#    projects and, on a clean tree, can cache a dependency's not-yet-built types as missing.
step "build (nx run-many -t build)"
npx nx run-many -t build --outputStyle=static
chmod +x packages/cli/dist/bin.js   # npm linked `embedflow` before the file existed

# 5. Built-in models: tiny real-format test models and the GloVe static encoder (cached by content).
if [ -d tools/tiny-models ]; then
  step "tiny models"
  node tools/tiny-models/dist/main.js models/tiny
fi
if [ -d tools/static-encoder ]; then
  step "GloVe static encoder"
  node tools/static-encoder/dist/main.js models/glove-6b-100d
fi
step "ready"

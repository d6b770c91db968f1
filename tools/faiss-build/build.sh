#!/usr/bin/env bash
# Offline, cached build of the faiss native addons:
#   node_modules/faiss-node/build/Release/faiss-node.node          (faiss-node 0.5.1, its own sources)
#   plugins/faiss-index/native/build/Release/embedflow_faiss.node  (@embedflow/faiss-index's addon)
# Both link Debian's prebuilt static libfaiss (libfaiss-dev 1.7.3) and bundle their runtime .so's
# (OpenBLAS, gfortran, quadmath, gomp) beside the .node with RUNPATH=$ORIGIN, so a cache restore needs
# neither apt nor a compiler. Nothing is fetched from GitHub; apt (Debian's archive) is the only network use.
#
# Usage: tools/faiss-build/build.sh [--force]      (as root on Debian 12, or with the apt packages below)
# Env:   EMBEDFLOW_CACHE (default $HOME/.cache/embedflow); the cache entry is
#        $EMBEDFLOW_CACHE/faiss/<faiss-node version>-<recipe hash>/
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

APT_PACKAGES=(libfaiss-dev libopenblas-dev patchelf cmake g++ make)
BUNDLED_LIBS=(libopenblas.so.0 libgfortran.so.5 libquadmath.so.0 libgomp.so.1)

FAISS_NODE_DIR="$ROOT/node_modules/faiss-node"
NATIVE_DIR="$ROOT/plugins/faiss-index/native"
CMAKE_JS="$ROOT/node_modules/cmake-js/bin/cmake-js"
OUT_FAISS_NODE="$FAISS_NODE_DIR/build/Release"
OUT_NATIVE="$NATIVE_DIR/build/Release"

log() { echo "[faiss-build] $*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -f "$FAISS_NODE_DIR/package.json" ]] || die "node_modules/faiss-node is missing; run the workspace install first"
[[ -f "$CMAKE_JS" ]] || die "node_modules/cmake-js is missing; run the workspace install first"
FAISS_NODE_VERSION="$(node -p "require('$FAISS_NODE_DIR/package.json').version")"
# faiss-node's declared node-addon-api (6.x) when present, else the root one.
FAISS_NODE_ADDON_API="$FAISS_NODE_DIR/node_modules/node-addon-api"
[[ -d "$FAISS_NODE_ADDON_API" ]] || FAISS_NODE_ADDON_API="$ROOT/node_modules/node-addon-api"
ADDON_API="$ROOT/node_modules/node-addon-api"

# Recipe hash: every input that changes the binaries. The Debian release pins libfaiss-dev/OpenBLAS
# versions, so the key is known before apt runs and a cache hit needs no apt at all.
. /etc/os-release
recipe_inputs() {
  echo "faiss-node=$FAISS_NODE_VERSION arch=$(uname -m) os=${ID:-}-${VERSION_ID:-}"
  echo "node-addon-api=$(node -p "require('$FAISS_NODE_ADDON_API/package.json').version"),$(node -p "require('$ADDON_API/package.json').version")"
  echo "apt=${APT_PACKAGES[*]} bundled=${BUNDLED_LIBS[*]}"
  (cd "$ROOT" && sha256sum tools/faiss-build/build.sh tools/faiss-build/faiss.cmake tools/faiss-build/compat/*.h \
    tools/faiss-build/faiss-node/CMakeLists.txt tools/faiss-build/faiss-node/package.json \
    node_modules/faiss-node/src/* plugins/faiss-index/native/CMakeLists.txt plugins/faiss-index/native/package.json \
    plugins/faiss-index/native/src/*)
}
RECIPE_HASH="$(recipe_inputs | sha256sum | cut -c1-16)"
KEY="$FAISS_NODE_VERSION-$RECIPE_HASH"
CACHE_ROOT="${EMBEDFLOW_CACHE:-$HOME/.cache/embedflow}/faiss"
CACHE="$CACHE_ROOT/$KEY"
STAMP=".embedflow-faiss-key"

in_place() {
  [[ -f "$OUT_FAISS_NODE/faiss-node.node" && -f "$OUT_NATIVE/embedflow_faiss.node" ]] &&
    [[ "$(cat "$OUT_FAISS_NODE/$STAMP" 2>/dev/null)" == "$KEY" ]] &&
    [[ "$(cat "$OUT_NATIVE/$STAMP" 2>/dev/null)" == "$KEY" ]]
}

if [[ $FORCE == 0 ]] && in_place; then
  log "up to date ($KEY)"
  exit 0
fi

# Loads both addons and runs a real search through each (exits non-zero on any mismatch).
smoke() { node "$HERE/smoke.cjs" "$ROOT"; }

install_from_cache() {
  rm -rf "$OUT_FAISS_NODE" "$OUT_NATIVE"
  mkdir -p "$OUT_FAISS_NODE" "$OUT_NATIVE"
  cp -a "$CACHE/faiss-node/." "$OUT_FAISS_NODE/"
  cp -a "$CACHE/native/." "$OUT_NATIVE/"
  echo "$KEY" >"$OUT_FAISS_NODE/$STAMP"
  echo "$KEY" >"$OUT_NATIVE/$STAMP"
}

mkdir -p "$CACHE_ROOT"
# One builder per cache at a time (parallel CI jobs on one runner, or two shells).
exec 9>"$CACHE_ROOT/.lock"
flock 9

if [[ $FORCE == 0 && -f "$CACHE/.complete" ]]; then
  log "restoring from cache $CACHE"
  install_from_cache
  smoke
  log "restored ($KEY)"
  exit 0
fi

# shellcheck source=../lib/apt.sh
source "$ROOT/tools/lib/apt.sh"

# cmake-js compile of one project into $2 (build dir); the binaries land in $2/Release.
cmake_js() {
  local project="$1" build="$2"; shift 2
  node "$CMAKE_JS" compile --log-level warn -d "$project" -O "$build" -p "$(nproc)" "$@" >&2
}

# Copies the non-glibc runtime libs beside the .node and points their RUNPATH at $ORIGIN.
bundle_libs() {
  local node_file="$1" dir
  dir="$(dirname "$node_file")"
  for lib in "${BUNDLED_LIBS[@]}"; do
    local path
    path="$(ldd "$node_file" | awk -v l="$lib" '$1 == l { print $3 }')"
    [[ -n "$path" && -f "$path" ]] || die "$lib not found by ldd $node_file"
    cp -L "$path" "$dir/$lib"
    chmod u+w "$dir/$lib"
    patchelf --set-rpath '$ORIGIN' "$dir/$lib"
  done
}

ensure_apt_packages
WORK="$(mktemp -d "$CACHE_ROOT/.build-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
start=$SECONDS
log "building faiss-node $FAISS_NODE_VERSION against Debian libfaiss ($KEY)"
cmake_js "$HERE/faiss-node" "$WORK/faiss-node" \
  --CDFAISS_NODE_DIR="$FAISS_NODE_DIR" --CDNODE_ADDON_API_DIR="$FAISS_NODE_ADDON_API"
log "building @embedflow/faiss-index native addon"
cmake_js "$NATIVE_DIR" "$WORK/native" --CDNODE_ADDON_API_DIR="$ADDON_API"

STAGE="$WORK/stage"
mkdir -p "$STAGE/faiss-node" "$STAGE/native"
cp "$WORK/faiss-node/Release/faiss-node.node" "$STAGE/faiss-node/"
cp "$WORK/native/Release/embedflow_faiss.node" "$STAGE/native/"
bundle_libs "$STAGE/faiss-node/faiss-node.node"
bundle_libs "$STAGE/native/embedflow_faiss.node"
echo "$KEY" >"$STAGE/.complete"
recipe_inputs >"$STAGE/recipe.txt"

# Publish atomically: a half-written entry is never seen as complete.
rm -rf "$CACHE"
mv "$STAGE" "$CACHE"
install_from_cache
smoke
log "built and cached in $((SECONDS - start))s ($CACHE)"

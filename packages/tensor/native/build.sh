#!/usr/bin/env bash
# Offline, cached build of @embedflow/tensor's native backend:
#   packages/tensor/native/build/Release/embedflow_tensor.node   (N-API, over Debian's OpenBLAS)
# OpenBLAS (Debian's pthreads build) and its Fortran runtime are copied beside the .node with
# RUNPATH=$ORIGIN, so a cache restore needs neither apt nor a compiler. Only apt is used for network.
#
# Usage: packages/tensor/native/build.sh [--force]   (as root on Debian 12, or with the apt packages below)
# Env:   EMBEDFLOW_CACHE (default $HOME/.cache/embedflow); the entry is $EMBEDFLOW_CACHE/tensor-native/<recipe hash>/
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

APT_PACKAGES=(libopenblas-dev patchelf cmake g++ make)
BUNDLED_LIBS=(libopenblas.so.0 libgfortran.so.5 libquadmath.so.0)
CMAKE_JS="$ROOT/node_modules/cmake-js/bin/cmake-js"
ADDON_API="$ROOT/node_modules/node-addon-api"
OUT="$HERE/build/Release"
NODE_FILE=embedflow_tensor.node

log() { echo "[tensor-native] $*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -f "$CMAKE_JS" && -d "$ADDON_API" ]] || die "node_modules/cmake-js or node-addon-api is missing; run the workspace install first"

# Recipe hash: every input that changes the binary. The Debian release pins OpenBLAS, so the key is
# known before apt runs and a cache hit needs no apt at all.
. /etc/os-release
recipe_inputs() {
  echo "arch=$(uname -m) os=${ID:-}-${VERSION_ID:-} node-addon-api=$(node -p "require('$ADDON_API/package.json').version")"
  echo "apt=${APT_PACKAGES[*]} bundled=${BUNDLED_LIBS[*]}"
  (cd "$HERE" && sha256sum build.sh CMakeLists.txt package.json smoke.cjs src/*)
}
KEY="$(recipe_inputs | sha256sum | cut -c1-16)"
CACHE_ROOT="${EMBEDFLOW_CACHE:-$HOME/.cache/embedflow}/tensor-native"
CACHE="$CACHE_ROOT/$KEY"
STAMP=".embedflow-tensor-native-key"

if [[ $FORCE == 0 && -f "$OUT/$NODE_FILE" && "$(cat "$OUT/$STAMP" 2>/dev/null)" == "$KEY" ]]; then
  log "up to date ($KEY)"
  exit 0
fi

smoke() { node "$HERE/smoke.cjs" "$OUT/$NODE_FILE"; }

install_from_cache() {
  rm -rf "$OUT"
  mkdir -p "$OUT"
  cp -a "$CACHE/." "$OUT/"
  rm -f "$OUT/.complete"
  echo "$KEY" >"$OUT/$STAMP"
}

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.lock"   # one builder per cache at a time
flock 9

if [[ $FORCE == 0 && -f "$CACHE/.complete" ]]; then
  log "restoring from cache $CACHE"
  install_from_cache
  smoke
  exit 0
fi

# shellcheck source=../../../tools/lib/apt.sh
source "$ROOT/tools/lib/apt.sh"

ensure_apt_packages
WORK="$(mktemp -d "$CACHE_ROOT/.build-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
start=$SECONDS
log "building the OpenBLAS addon ($KEY)"
node "$CMAKE_JS" compile --log-level warn -d "$HERE" -O "$WORK/build" -p "$(nproc)" --CDNODE_ADDON_API_DIR="$ADDON_API" >&2

STAGE="$WORK/stage"
mkdir -p "$STAGE"
cp "$WORK/build/Release/$NODE_FILE" "$STAGE/"
for lib in "${BUNDLED_LIBS[@]}"; do
  path="$(ldd "$STAGE/$NODE_FILE" | awk -v l="$lib" '$1 == l { print $3 }')"
  [[ -n "$path" && -f "$path" ]] || die "$lib not found by ldd $STAGE/$NODE_FILE"
  cp -L "$path" "$STAGE/$lib"
  chmod u+w "$STAGE/$lib"
  patchelf --set-rpath '$ORIGIN' "$STAGE/$lib"
done
recipe_inputs >"$STAGE/recipe.txt"
echo "$KEY" >"$STAGE/.complete"
# Publish atomically: a half-written entry is never seen as complete.
rm -rf "$CACHE"
mv "$STAGE" "$CACHE"
install_from_cache
smoke
log "built and cached in $((SECONDS - start))s ($CACHE)"

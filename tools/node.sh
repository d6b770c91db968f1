#!/usr/bin/env bash
# `node` for package.json scripts: the system Node when it is >= 22.19, else the pinned Node 24 that
# set-up installs from npm (installed here on first use). Usage: bash tools/node.sh <node args...>
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/node-runtime.sh"
embedflow_use_node
exec node "$@"

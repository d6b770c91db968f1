#!/usr/bin/env bash
# The README's test command: set-up, every package's tests through nx, then one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
# Everything below (set-up, nx, vitest, the benches) runs under Node >= 22.19: Node 24 from npm where the system one is older.
. tools/node-runtime.sh
embedflow_use_node || exit 1
# Set-up must leave the tracked files as they were (a fresh clone stays clean after the README's commands).
tracked() { git status --porcelain --untracked-files=no 2>/dev/null; git diff 2>/dev/null | sha256sum; }
before=$(tracked)
bash tools/setup.sh || exit $?
rc=0
if [ "$before" != "$(tracked)" ]; then
  echo "set-up changed tracked files (git status below); it must leave a fresh clone clean:" >&2
  git status --porcelain --untracked-files=no >&2
  rc=1
fi
# One direction of dependencies and workspace references in step; then every package and its tests type-check.
node tools/sync-workspace.mjs --check || rc=1
node tools/typecheck.mjs || rc=1
find packages plugins tools examples e2e bench -maxdepth 2 -name test-results.json -delete
npx nx run-many -t test --outputStyle=static || rc=1
# Every benchmark, briefly (about 2 minutes): a broken bench fails here, not when someone measures.
(cd bench && npm run bench --silent -- --quick) || rc=1
node tools/test-summary.mjs
exit $rc

#!/usr/bin/env bash
# The README's test command: set-up, every package's tests through nx, then one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh || exit $?
find packages plugins tools examples e2e bench -maxdepth 2 -name test-results.json -delete
npx nx run-many -t test --outputStyle=static
rc=$?
node tools/test-summary.mjs
exit $rc

#!/usr/bin/env node
// Adds up the vitest JSON reports (test-results.json) that `nx run-many -t test` left in each
// package, prints a line per package and a closing `tests: N passed, N failed` line.
import { existsSync, readdirSync, readFileSync } from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const dirs = [
  ...["packages", "plugins", "tools", "examples"].flatMap((g) => readdirSync(path.join(root, g)).map((d) => path.join(g, d))),
  "e2e",
  "bench"
]
let passed = 0
let failed = 0
let skipped = 0
for (const dir of dirs) {
  const file = path.join(root, dir, "test-results.json")
  if (!existsSync(file)) continue
  const r = JSON.parse(readFileSync(file, "utf8"))
  passed += r.numPassedTests
  failed += r.numFailedTests
  skipped += r.numPendingTests + (r.numTodoTests ?? 0)
  console.log(`  ${dir.padEnd(34)} ${String(r.numPassedTests).padStart(4)} passed${r.numFailedTests ? `, ${r.numFailedTests} failed` : ""}`)
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`)

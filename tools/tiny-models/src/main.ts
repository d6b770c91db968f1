#!/usr/bin/env node
/**
 * CLI: node --conditions=source --import tsx tools/tiny-models/src/main.ts [outDir]
 * Builds tiny-bert, tiny-bert-cross and tiny-gpt2 into outDir (default <repo>/models/tiny).
 */
import { resolve } from "node:path"
import { buildTinyModels, defaultOutDir } from "./TinyModels.js"

const args = process.argv.slice(2)
const force = args.includes("--force")
const positional = args.filter((a) => !a.startsWith("--"))
const outDir = positional[0] !== undefined ? resolve(positional[0]) : defaultOutDir()
const t0 = performance.now()
try {
  for (const m of buildTinyModels(outDir, { force })) console.log(`${m.skipped ? "up to date" : "built     "}  ${m.dir}`)
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(2)} s`)
} catch (e) {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
}

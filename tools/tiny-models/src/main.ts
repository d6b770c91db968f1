#!/usr/bin/env node
/**
 * CLI: node --conditions=source --import tsx tools/tiny-models/src/main.ts [outDir] [--force]
 * Builds tiny-bert, tiny-bert-cross and tiny-gpt2 into outDir (default <repo>/models/tiny).
 * With --bench=<name>[,<name>] builds the benchmark-size random models instead (minilm-l6-random,
 * gpt2-small-random) into outDir (default <repo>/models/bench).
 */
import { resolve } from "node:path"
import { BENCH_MODEL_NAMES, type BenchModelName, buildBenchModel, defaultBenchDir } from "./BenchModels.js"
import { buildTinyModels, defaultOutDir } from "./TinyModels.js"

const args = process.argv.slice(2)
const force = args.includes("--force")
const positional = args.filter((a) => !a.startsWith("--"))
const bench = args.find((a) => a.startsWith("--bench="))?.slice("--bench=".length)
const outDir = positional[0] !== undefined ? resolve(positional[0]) : bench !== undefined ? defaultBenchDir() : defaultOutDir()
const t0 = performance.now()
try {
  if (bench !== undefined) {
    for (const name of bench.split(",")) {
      if (!BENCH_MODEL_NAMES.includes(name as BenchModelName)) throw new Error(`unknown bench model "${name}" (${BENCH_MODEL_NAMES.join(", ")})`)
      const m = buildBenchModel(name as BenchModelName, { outDir, force })
      console.log(`${m.skipped ? "up to date" : "built     "}  ${m.dir}`)
    }
  } else for (const m of buildTinyModels(outDir, { force })) console.log(`${m.skipped ? "up to date" : "built     "}  ${m.dir}`)
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(2)} s`)
} catch (e) {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
}

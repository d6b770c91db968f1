/**
 * Runs every bench in this folder, one child process each, and fails if any fails.
 *
 *   npm run bench                 full runs (minutes each; the figures in README.md)
 *   npm run bench -- --quick      every bench briefly (small sizes), to catch a broken bench in CI
 *   npm run bench -- bm25 faiss   only the named ones
 *
 * Quick mode passes each bench the small arguments below and BENCH_QUICK=1 (a bench not listed
 * here runs with its defaults, and should keep them small when BENCH_QUICK is set).
 */
import { spawnSync } from "node:child_process"
import { readdirSync } from "node:fs"
import { join } from "node:path"

const quickArgs: Record<string, { readonly args?: ReadonlyArray<string>; readonly env?: Record<string, string> }> = {
  bm25: { args: ["5000", "100"] },
  "contrastive-decoding": {},
  encoder: { args: ["200", "4096", "2"] },
  faiss: { env: { BENCH_N: "5000", BENCH_NQ: "100", BENCH_NLIST: "64" } },
  rag: { args: ["10"] },
  "static-encoder": { args: ["1", "256"] },
  "train-step": { args: ["0.2"] },
  sgemm: { args: ["0.1"] },
  "finetune-step": { args: ["1"] },
  "load-jsonl": { args: ["--size-mb", "32"] },
  "rag-headings": { args: ["2", "9400"] },
  serve: { args: ["200", "500", "tiny-bert"] },
  workers: { args: ["1", "256"] }
}

const argv = process.argv.slice(2)
const quick = argv.includes("--quick")
const only = argv.filter((a) => !a.startsWith("--"))
const benches = readdirSync(import.meta.dirname)
  .filter((f) => f.endsWith(".bench.ts"))
  .map((f) => f.slice(0, -".bench.ts".length))
  .filter((name) => only.length === 0 || only.includes(name))
  .sort()
const unknown = only.filter((name) => !benches.includes(name))
if (unknown.length > 0) {
  console.error(`no bench named ${unknown.join(", ")}; benches: ${readdirSync(import.meta.dirname).filter((f) => f.endsWith(".bench.ts")).join(", ")}`)
  process.exit(2)
}

const failed: Array<string> = []
for (const name of benches) {
  const settings = quick ? (quickArgs[name] ?? {}) : {}
  console.log(`\n=== ${name}${quick ? " (quick)" : ""}`)
  const t0 = performance.now()
  const result = spawnSync(
    process.execPath,
    ["--conditions=source", "--import", "tsx", join(import.meta.dirname, `${name}.bench.ts`), ...(settings.args ?? [])],
    { stdio: "inherit", env: { ...process.env, ...(quick ? { BENCH_QUICK: "1" } : {}), ...settings.env } }
  )
  const seconds = ((performance.now() - t0) / 1000).toFixed(1)
  if (result.status !== 0) {
    failed.push(name)
    console.log(`=== ${name} FAILED (exit ${result.status ?? result.signal}) after ${seconds} s`)
  } else console.log(`=== ${name} ok in ${seconds} s`)
}
if (failed.length > 0) {
  console.error(`\n${failed.length} of ${benches.length} benches failed: ${failed.join(", ")}`)
  process.exit(1)
}
console.log(`\nall ${benches.length} benches ran`)

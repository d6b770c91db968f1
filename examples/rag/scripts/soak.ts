/**
 * The full soak of the RAG server (issue 13): ingests docs/ with GloVe, starts `cli.ts serve` on
 * 127.0.0.1 in a child process, sends the request mix of test/soak.ts and checks 0 errors and RSS
 * growth over the second half < 5%. test/Soak.test.ts runs a shorter one (2,000 requests) in CI.
 *
 *   node --conditions=source --import tsx examples/rag/scripts/soak.ts [requests=10000] [concurrency=50] [warmup=500]
 * Needs models/glove-6b-100d and models/tiny (tools/setup.sh builds both). Exit 1 on failure.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { layerModelHub } from "@embedflow/models"
import { Effect } from "effect"
import { ingest } from "../src/index.js"
import { expectedStatuses, soak, startServerProcess } from "../test/soak.js"

const repo = resolve(import.meta.dirname, "../../..")
const requests = Number(process.argv[2] ?? 10_000)
const concurrency = Number(process.argv[3] ?? 50)
const warmup = Number(process.argv[4] ?? 500)
const tmp = mkdtempSync(join(tmpdir(), "embedflow-rag-soak-"))
try {
  const indexDir = join(tmp, "index")
  await Effect.runPromise(
    ingest({ folder: resolve(import.meta.dirname, "../docs"), indexDir, encoder: { model: join(repo, "models/glove-6b-100d") } }).pipe(Effect.provide(layerModelHub()))
  )
  const server = await startServerProcess(["--index-dir", indexDir, "--lm", join(repo, "models/tiny/tiny-gpt2"), "--max-new-tokens", "4", "--k", "3"])
  try {
    const r = await soak({ url: server.url, pid: server.pid, requests, concurrency, warmup })
    const expected = expectedStatuses(requests)
    console.log(JSON.stringify({ ...r, expectedStatuses: expected }, null, 2))
    const statusesOk = JSON.stringify(r.byStatus) === JSON.stringify(expected)
    const ok = r.errors === 0 && statusesOk && r.rssGrowthSecondHalf < 0.05
    console.log(
      `${ok ? "PASS" : "FAIL"}: ${r.requests} requests, ${concurrency} concurrent, ${r.errors} errors in ${r.seconds.toFixed(1)} s ` +
        `(${r.requestsPerSecond.toFixed(0)} req/s); RSS ${r.rssHalfMiB.toFixed(1)} -> ${r.rssEndMiB.toFixed(1)} MiB over the second half ` +
        `(${(100 * r.rssGrowthSecondHalf).toFixed(2)}%, limit 5%; medians of the samples at 40-50% and 90-100%; ` +
        `peak of the second half ${r.rssPeakSecondHalfMiB.toFixed(1)} MiB)`
    )
    process.exitCode = ok ? 0 : 1
  } finally {
    await server.stop()
  }
} finally {
  rmSync(tmp, { recursive: true, force: true })
}

import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { makeModelHub, ModelHub } from "@embedflow/models"
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { ingest } from "../src/index.js"
import { expectedStatuses, type ServerProcess, soak, startServerProcess } from "./soak.js"

// Issue 13 asks for 10,000 requests, 50 concurrent, 0 errors, RSS growth over the second half < 5%.
// That takes 90-175 s on 2 heavily shared cores, so CI runs 2,000 after 500 uncounted warm-up requests
// (18-40 s); scripts/soak.ts (or EMBEDFLOW_SOAK_REQUESTS=10000 here) runs the full one.
const REQUESTS = Number(process.env.EMBEDFLOW_SOAK_REQUESTS ?? 2_000)
const tmp = mkdtempSync(join(tmpdir(), "embedflow-rag-soak-"))
let server: ServerProcess

beforeAll(async () => {
  const indexDir = join(tmp, "index")
  const scope = Effect.runSync(Scope.make())
  await Effect.runPromise(
    Effect.gen(function* () {
      const hub = yield* makeModelHub()
      yield* ingest({ folder: resolve(import.meta.dirname, "../docs"), indexDir, encoder: { model: inject("glove") } }).pipe(Effect.provideService(ModelHub, hub))
    }).pipe(Scope.provide(scope))
  )
  await Effect.runPromise(Scope.close(scope, Exit.void))
  server = await startServerProcess(["--index-dir", indexDir, "--lm", join(inject("tinyModels"), "tiny-gpt2"), "--max-new-tokens", "4", "--k", "3"])
})

afterAll(async () => {
  await server?.stop()
  rmSync(tmp, { recursive: true, force: true })
})

describe("soak of the RAG server on 127.0.0.1", () => {
  it(`${REQUESTS} requests, 50 concurrent: 0 errors, every response with its security headers, RSS growth over the second half < 5%`, { timeout: 300_000 }, async () => {
    const r = await soak({ url: server.url, pid: server.pid, requests: REQUESTS, concurrency: 50, warmup: 500 })
    console.log(
      `soak: ${r.requests} requests, ${r.concurrency} concurrent, ${r.errors} errors, ${r.seconds.toFixed(1)} s (${r.requestsPerSecond.toFixed(0)} req/s, ` +
        `p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms); statuses ${JSON.stringify(r.byStatus)}; ` +
        `RSS ${r.rssStartMiB.toFixed(1)} -> ${r.rssHalfMiB.toFixed(1)} -> ${r.rssEndMiB.toFixed(1)} MiB (second half ${(100 * r.rssGrowthSecondHalf).toFixed(2)}%, ` +
        `peak ${r.rssPeakSecondHalfMiB.toFixed(1)})\n` +
        Object.entries(r.byKind).map(([k, v]) => `  ${k}: ${v.n} requests, p50 ${v.p50Ms.toFixed(1)} ms, p99 ${v.p99Ms.toFixed(1)} ms`).join("\n")
    )
    expect(r.sampleErrors).toEqual([])
    expect(r.errors).toBe(0)
    expect(r.byStatus).toEqual(expectedStatuses(REQUESTS))
    expect(r.rssGrowthSecondHalf).toBeLessThan(0.05)
  })
})

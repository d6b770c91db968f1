/**
 * examples/rag on the Cranfield collection (1400 abstracts written out as .txt files): ingest
 * throughput (chunks/s, embedding only and end to end) with the GloVe static encoder, and query
 * latency over the 225 Cranfield queries: retrieval through faiss Flat/HNSW against the exact
 * Float32Array scan measured in the same run (ratios), and a full ask with tiny-gpt2.
 *
 *   node --conditions=source --import tsx bench/src/rag.bench.ts [queries=225]
 * Needs models/glove-6b-100d and models/tiny (tools/setup.sh builds both).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { ingest, makeRag, type Rag } from "@embedflow/example-rag"
import { makeModelHub, ModelHub } from "@embedflow/models"
import { Effect } from "effect"

const repo = resolve(import.meta.dirname, "../..")
const data = process.env.EMBEDFLOW_DATA ?? resolve(repo, "../shared/data")
const queryLimit = Number(process.argv[2] ?? 225)
const glove = join(repo, "models/glove-6b-100d")
const gpt2 = join(repo, "models/tiny/tiny-gpt2")

const field = (record: string, tag: string): string => (new RegExp(`^\\.${tag}\\n([\\s\\S]*?)(?=^\\.[A-Z]\\b|$(?![\\s\\S]))`, "m").exec(record)?.[1] ?? "").trim()
const records = (file: string) => readFileSync(join(data, "cranfield", file), "utf8").replace(/\r\n/g, "\n").split(/^\.I /m).filter((r) => r.trim() !== "")

const tmp = mkdtempSync(join(tmpdir(), "embedflow-rag-bench-"))
const corpus = join(tmp, "cranfield")
mkdirSync(corpus)
for (const r of records("cran.all.1400")) writeFileSync(join(corpus, `${r.split("\n")[0]!.trim().padStart(4, "0")}.txt`), field(r, "W"))
const queries = records("cran.qry").map((r) => field(r, "W").replace(/\s+/g, " ")).slice(0, queryLimit)

const pct = (xs: Array<number>, p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!

const program = Effect.gen(function* () {
  const hub = yield* makeModelHub()
  const provide = Effect.provideService(ModelHub, hub)
  const rags: Record<string, Rag> = {}
  console.log(`corpus: ${queries.length} queries, 1400 documents; encoder ${glove}`)
  for (const index of ["exact", "flat", "hnsw"] as const) {
    const t0 = performance.now()
    const r = yield* ingest({ folder: corpus, indexDir: join(tmp, index), encoder: { model: glove }, index }).pipe(provide)
    const total = (performance.now() - t0) / 1000
    console.log(
      `ingest ${index.padEnd(5)}: ${r.chunks} chunks from ${r.files} files; embedding ${r.chunksPerSecond.toFixed(0)} chunks/s, ` +
        `end to end ${(r.chunks / total).toFixed(0)} chunks/s (${total.toFixed(2)} s, model load ${r.loadSeconds.toFixed(2)} s)`
    )
    // minScore 2 is never met (scores are cosines), so these measure retrieval only: embed + search.
    rags[index] = yield* makeRag({ indexDir: join(tmp, index), lm: { kind: "local", model: gpt2 }, k: 4, minScore: 2 }).pipe(provide)
  }
  const retrieval: Record<string, Array<number>> = {}
  for (const [name, rag] of Object.entries(rags)) {
    retrieval[name] = []
    for (const q of queries) retrieval[name]!.push((yield* rag.ask(q)).retrieveMs)
  }
  const base = pct(retrieval.exact!, 50)
  for (const [name, xs] of Object.entries(retrieval)) {
    console.log(`retrieve ${name.padEnd(5)}: p50 ${pct(xs, 50).toFixed(2)} ms, p95 ${pct(xs, 95).toFixed(2)} ms, p50 vs exact scan ${(base / pct(xs, 50)).toFixed(2)}x`)
  }
  const answering = yield* makeRag({ indexDir: join(tmp, "flat"), lm: { kind: "local", model: gpt2 }, k: 4 }).pipe(provide)
  const full: Array<number> = []
  const gen: Array<number> = []
  for (const q of queries.slice(0, 50)) {
    const t0 = performance.now()
    const a = yield* answering.ask(q)
    full.push(performance.now() - t0)
    gen.push(a.generateMs)
  }
  console.log(`ask (flat + tiny-gpt2, 32 new tokens, ${full.length} queries): p50 ${pct(full, 50).toFixed(1)} ms, p95 ${pct(full, 95).toFixed(1)} ms (generation p50 ${pct(gen, 50).toFixed(1)} ms)`)
})

try {
  await Effect.runPromise(Effect.scoped(program))
} finally {
  rmSync(tmp, { recursive: true, force: true })
}

/**
 * BM25 index build and query throughput on 100k synthetic documents with a seeded Zipf vocabulary,
 * against an npm BM25 library measured in the same run on the same corpus, queries and tokens:
 * wink-bm25-text-search (an inverted index with precomputed term scores), same k1, b and IDF
 * (Lucene's log(1 + (N - n + 0.5) / (n + 0.5))). Their top-k lists are compared too.
 *
 *   node --conditions=source --import tsx bench/src/bm25.bench.ts [docs=100000] [queries=2000]
 */
import { Bm25 } from "@embedflow/bm25"
import winkBm25 from "wink-bm25-text-search"

const docs = Number(process.argv[2] ?? 100_000)
const queryCount = Number(process.argv[3] ?? 2000)
const vocab = 50_000
const zipfS = 1.07

// mulberry32: small, seeded, good enough for synthetic text.
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const rand = rng(20240601)
const cdf = new Float64Array(vocab)
let acc = 0
for (let r = 0; r < vocab; r++) cdf[r] = acc += 1 / Math.pow(r + 1, zipfS)
const zipf = (): number => {
  const u = rand() * acc
  let lo = 0
  let hi = vocab - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (cdf[mid]! < u) lo = mid + 1
    else hi = mid
  }
  return lo
}
const word = (r: number) => `w${r.toString(36)}`

const corpus = Array.from({ length: docs }, (_, i) => ({
  id: `d${i}`,
  text: Array.from({ length: 20 + Math.floor(rand() * 100) }, () => word(zipf())).join(" ")
}))
// Queries: 2-6 terms, skipping the ~50 most frequent ranks (stop-word-like), as real queries mostly do.
const queries = Array.from({ length: queryCount }, () =>
  Array.from({ length: 2 + Math.floor(rand() * 5) }, () => {
    let r = zipf()
    while (r < 50) r = zipf()
    return word(r)
  }).join(" ")
)

let t = performance.now()
const index = Bm25.build(corpus)
const buildMs = performance.now() - t
console.log(`corpus: ${docs} docs, ${index.vocabulary.size} terms, ${index.postingDocs.length} postings, avg length ${index.averageLength.toFixed(1)}; build ${(buildMs / 1000).toFixed(2)} s`)

const k = 10
index.searchBatch(queries.slice(0, 50), k) // warm-up
t = performance.now()
const results = index.searchBatch(queries, k)
const indexQps = queries.length / ((performance.now() - t) / 1000)

// Peer: wink-bm25-text-search over the same tokens (our tokenizer as its only prep task).
t = performance.now()
const wink = winkBm25()
wink.defineConfig({ fldWeights: { body: 1 }, bm25Params: { k1: index.k1, b: index.b, k: 1 } })
wink.definePrepTasks([(text: string) => index.tokenizer.tokenize(text)])
corpus.forEach((d) => wink.addDoc({ body: d.text }, d.id))
wink.consolidate(6)
const winkBuildMs = performance.now() - t
// It scans every document holding a query term, so it gets the first 200 queries (same ones).
const winkQueries = queries.slice(0, Math.min(queries.length, 200))
winkQueries.slice(0, 20).forEach((q) => wink.search(q, k)) // warm-up
t = performance.now()
const winkResults = winkQueries.map((q) => wink.search(q, k))
const winkQps = winkQueries.length / ((performance.now() - t) / 1000)

// Agreement: top-k overlap per query, and the score of each document both return.
let overlap = 0
let maxRel = 0
winkResults.forEach((w, q) => {
  const ours = new Map(results[q]!.map((r) => [r.id, r.score]))
  for (const [id, score] of w) {
    const mine = ours.get(id)
    if (mine === undefined) continue
    overlap++
    maxRel = Math.max(maxRel, Math.abs(mine - score) / score)
  }
})
const total = winkResults.reduce((n, w) => n + w.length, 0)
console.log(`top-${k} agreement with wink-bm25-text-search on ${winkQueries.length} queries: ${((100 * overlap) / total).toFixed(1)}% of its hits also ours; shared hits' scores differ by <= ${maxRel.toExponential(2)} (relative; float32 postings vs its 6-decimal scores)`)
console.log(`index build: embedflow ${(buildMs / 1000).toFixed(2)} s, wink-bm25-text-search ${(winkBuildMs / 1000).toFixed(2)} s (${(winkBuildMs / buildMs).toFixed(1)}x ours)`)
console.log(`wink-bm25-text-search: ${winkQps.toFixed(0)} queries/s`)
console.log(`embedflow BM25:        ${indexQps.toFixed(0)} queries/s  (${(indexQps / winkQps).toFixed(1)}x wink-bm25-text-search)`)

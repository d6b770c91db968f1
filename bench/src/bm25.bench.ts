/**
 * BM25 query throughput on 100k synthetic documents with a seeded Zipf vocabulary, against a
 * baseline measured in the same run: a naive scan that scores every document from a per-document
 * term-frequency map and sorts. Both compute the same scores (checked on the baseline's queries).
 *
 *   node --conditions=source --import tsx bench/src/bm25.bench.ts [docs=100000] [queries=2000]
 */
import { Bm25 } from "@embedflow/bm25"

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

// Baseline: forward index (term -> tf per document), every document scored for every query.
const forward = corpus.map((d) => {
  const m = new Map<string, number>()
  for (const tok of index.tokenizer.tokenize(d.text)) m.set(tok, (m.get(tok) ?? 0) + 1)
  return m
})
const lengths = index.documentLengths
const naive = (q: string) => {
  const terms = index.tokenizer.tokenize(q)
  const idfs = terms.map((term) => index.idf(term))
  const scores = new Float64Array(docs)
  for (let d = 0; d < docs; d++) {
    const f = forward[d]!
    const norm = index.k1 * (1 - index.b + (index.b * lengths[d]!) / index.averageLength)
    let s = 0
    for (let i = 0; i < terms.length; i++) {
      const tf = f.get(terms[i]!)
      if (tf !== undefined) s += (idfs[i]! * tf * (index.k1 + 1)) / (tf + norm)
    }
    scores[d] = s
  }
  return Array.from(scores.keys()).filter((d) => scores[d]! > 0).sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, k).map((d) => ({ d, s: scores[d]! }))
}
const baselineQueries = Math.min(50, queries.length)
t = performance.now()
const base = queries.slice(0, baselineQueries).map(naive)
const naiveQps = baselineQueries / ((performance.now() - t) / 1000)

let maxRel = 0
base.forEach((b, q) => b.forEach((x, i) => (maxRel = Math.max(maxRel, Math.abs(x.s - results[q]![i]!.score) / x.s))))
console.log(`top-${k} scores agree with the naive scan on ${baselineQueries} queries: max relative difference ${maxRel.toExponential(2)} (float32 postings)`)
console.log(`naive scan (baseline): ${naiveQps.toFixed(1)} queries/s`)
console.log(`BM25 index + heap:     ${indexQps.toFixed(0)} queries/s  (${(indexQps / naiveQps).toFixed(0)}x the baseline)`)

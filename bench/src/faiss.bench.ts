/**
 * faiss-index benchmark: QPS and recall@10 of HNSW32 (efSearch tuned) and IVF (nprobe tuned) against
 * faiss Flat, and the exact onnxruntime MatMul+TopK path against faiss Flat, all in one run.
 *
 *   node --conditions=source --import tsx bench/src/faiss.bench.ts
 *   BENCH_N=20000 BENCH_NQ=500 ... (smaller run)   BENCH_NLIST=1024   BENCH_TARGET=0.95
 *   BENCH_DATA=clustered   (corpus and queries around 1000 shared centres, like real embeddings)
 *
 * Corpus and queries are seeded random unit vectors (dim 384, inner product). Uniform random
 * directions have no structure for an index to exploit (every point is nearly orthogonal to every
 * other), so BENCH_DATA=clustered adds the case approximate indexes are built for. Parameters are tuned
 * on a separate validation query set (the smallest value reaching the recall target), then QPS and
 * recall are measured on the test queries, so the reported recall is not fitted to them.
 */
import { ExactSearch, FaissIndex, type FactoryString, randomUnitVectors, recallAtK } from "@embedflow/faiss-index"

const env = (name: string, fallback: number): number => (process.env[name] ? Number(process.env[name]) : fallback)
const dim = 384
const n = env("BENCH_N", 100_000)
const nq = env("BENCH_NQ", 1000)
const nval = env("BENCH_NVAL", 200)
const nlist = env("BENCH_NLIST", 1024)
const target = env("BENCH_TARGET", 0.95)
const k = 10
const data = process.env.BENCH_DATA === "clustered" ? "clustered" : "random"

/** Unit vectors around `centres` shared cluster centres: normalize(centre + spread * noise). */
const clustered = (count: number, seed: number, centres = 1000, spread = 0.6): Float32Array => {
  const c = randomUnitVectors(centres, dim, 7)
  const noise = randomUnitVectors(count, dim, seed)
  const out = new Float32Array(count * dim)
  for (let i = 0; i < count; i++) {
    const centre = (i * 7919 + seed) % centres // balanced over centres, different rows per seed
    let norm = 0
    for (let j = 0; j < dim; j++) {
      const v = c[centre * dim + j] + spread * noise[i * dim + j]
      out[i * dim + j] = v
      norm += v * v
    }
    const inv = 1 / Math.sqrt(norm)
    for (let j = 0; j < dim; j++) out[i * dim + j] *= inv
  }
  return out
}
const draw = (count: number, seed: number): Float32Array => (data === "clustered" ? clustered(count, seed) : randomUnitVectors(count, dim, seed))

const time = <A>(f: () => A): [A, number] => {
  const t = performance.now()
  const a = f()
  return [a, (performance.now() - t) / 1000]
}
const timeAsync = async <A>(f: () => Promise<A>): Promise<[A, number]> => {
  const t = performance.now()
  const a = await f()
  return [a, (performance.now() - t) / 1000]
}

console.log(`faiss.bench: ${n} x ${dim} ${data} unit vectors, ${nq} test + ${nval} validation queries, k=${k}, target recall@${k} >= ${target}`)
const corpus = draw(n, 42)
const test = draw(nq, 43)
const val = draw(nval, 44)
const ids = Array.from({ length: n }, (_, i) => `d${i}`)

// Ground truth: exact search on onnxruntime (CPU EP).
const [exact, ortBuild] = await timeAsync(() => ExactSearch.create(corpus, dim, { metric: "ip" }))
await exact.search(test.subarray(0, 16 * dim), k) // warm-up
const [truth, ortSecs] = await timeAsync(() => exact.search(test, k))
const valTruth = (await exact.search(val, k)).labels
await exact.close()

const flat = FaissIndex.create({ dim, factory: "Flat", metric: "ip" })
flat.add(ids, corpus)
flat.search(test.subarray(0, 16 * dim), k)
const [flatResult, flatSecs] = time(() => flat.search(test, k))
const flatQps = nq / flatSecs

interface Row {
  readonly name: string
  readonly param: string
  readonly build: number
  readonly qps: number
  readonly recall: number
}
const rows: Array<Row> = [
  { name: "faiss Flat", param: "-", build: 0, qps: flatQps, recall: recallAtK(flatResult.labels, truth.labels, nq, k) },
  { name: "ORT exact (MatMul+TopK)", param: `${Math.ceil(n / 32768)} shards`, build: ortBuild, qps: nq / ortSecs, recall: 1 }
]

/** Smallest parameter value whose validation recall reaches the target (else the largest tried). */
const tune = (index: FaissIndex, name: "efSearch" | "nprobe", values: ReadonlyArray<number>): { value: number; trace: string } => {
  const trace: Array<string> = []
  for (const value of values) {
    index.setParams({ [name]: value })
    const r = recallAtK(index.search(val, k).labels, valTruth, nval, k)
    trace.push(`${value}:${r.toFixed(3)}`)
    if (r >= target) return { value, trace: trace.join(" ") }
  }
  return { value: values[values.length - 1], trace: trace.join(" ") }
}

const measure = (name: string, factory: FactoryString, build: (ix: FaissIndex) => void, param: "efSearch" | "nprobe", values: ReadonlyArray<number>) => {
  const index = FaissIndex.create({ dim, factory, metric: "ip" })
  const [, buildSecs] = time(() => build(index))
  const tuned = tune(index, param, values)
  index.setParams({ [param]: tuned.value })
  index.search(test.subarray(0, 16 * dim), k)
  const [r, secs] = time(() => index.search(test, k))
  console.log(`  ${name} validation recall by ${param}: ${tuned.trace}`)
  rows.push({ name, param: `${param}=${tuned.value}`, build: buildSecs, qps: nq / secs, recall: recallAtK(r.labels, truth.labels, nq, k) })
}

measure("faiss HNSW32", "HNSW32", (ix) => ix.add(ids, corpus), "efSearch", [16, 32, 64, 128, 256, 512, 1024, 2048])
measure(
  `faiss IVF${nlist},Flat`,
  `IVF${nlist},Flat`,
  (ix) => {
    ix.train(corpus)
    ix.add(ids, corpus)
  },
  "nprobe",
  [1, 2, 4, 8, 16, 32, 64, 128, 256, 512].filter((p) => p <= nlist)
)

console.log("")
console.log("| index | search param | build s | QPS | x Flat QPS | recall@10 vs ORT exact |")
console.log("| --- | --- | --- | --- | --- | --- |")
for (const r of rows) {
  console.log(`| ${r.name} | ${r.param} | ${r.build.toFixed(1)} | ${r.qps.toFixed(0)} | ${(r.qps / flatQps).toFixed(2)} | ${r.recall.toFixed(3)} |`)
}
const goal = rows.slice(2).map((r) => `${r.name}: ${r.recall >= target && r.qps >= 5 * flatQps ? "meets" : "misses"} (recall ${r.recall.toFixed(3)}, ${(r.qps / flatQps).toFixed(2)}x Flat)`)
console.log(`\ngoal recall@10 >= ${target} at >= 5x Flat QPS: ${goal.join("; ")}`)

// Smoke test of the two faiss addons built by build.sh: each must load and return the exact
// nearest neighbours of a seeded random corpus (checked against a float64 brute force here).
// Usage: node tools/faiss-build/smoke.cjs [repoRoot]
"use strict"
const path = require("node:path")
const assert = require("node:assert/strict")

const root = path.resolve(process.argv[2] ?? path.join(__dirname, "../.."))
const d = 32, n = 2000, nq = 20, k = 5

let s = 12345 // Park-Miller LCG: reproducible without Math.random
const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5
const xb = new Float32Array(n * d).map(rnd)
const xq = new Float32Array(nq * d).map(rnd)

const expected = [] // per query: ids sorted by float64 squared L2
for (let q = 0; q < nq; q++) {
  const dist = []
  for (let i = 0; i < n; i++) {
    let acc = 0
    for (let j = 0; j < d; j++) { const t = xq[q * d + j] - xb[i * d + j]; acc += t * t }
    dist.push([acc, i])
  }
  dist.sort((a, b) => a[0] - b[0])
  expected.push(dist.slice(0, k).map((e) => e[1]))
}

// faiss-node 0.5.1: plain arrays in, plain arrays out.
const faissNode = require(path.join(root, "node_modules/faiss-node"))
const flat = new faissNode.IndexFlatL2(d)
flat.add(Array.from(xb))
const r1 = flat.search(Array.from(xq), k)
for (let q = 0; q < nq; q++) assert.deepEqual(r1.labels.slice(q * k, q * k + k), expected[q], `faiss-node query ${q}`)

// @embedflow/faiss-index addon: typed arrays in and out.
const native = require(path.join(root, "plugins/faiss-index/native/build/Release/embedflow_faiss.node"))
const ix = new native.NativeIndex(d, "Flat", "l2")
ix.add(xb)
const r2 = ix.search(xq, k)
for (let q = 0; q < nq; q++) assert.deepEqual(Array.from(r2.labels.subarray(q * k, q * k + k), Number), expected[q], `native query ${q}`)

const hnsw = new native.NativeIndex(d, "HNSW32", "l2")
hnsw.add(xb)
hnsw.setParameter("efSearch", 256)
const r3 = hnsw.search(xq, 1)
const hits = expected.filter((e, q) => Number(r3.labels[q]) === e[0]).length
assert.ok(hits >= nq - 1, `HNSW32 top-1 hits ${hits}/${nq}`)

console.log(`[faiss-build] smoke ok: faiss-node ${require(path.join(root, "node_modules/faiss-node/package.json")).version}, native faiss ${native.faissVersion}, exact top-${k} on ${n}x${d}, HNSW top-1 ${hits}/${nq}`)

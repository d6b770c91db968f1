import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { ExactSearch, FaissIndex, FaissIndexError, randomUnitVectors, recallAtK } from "../src/index.js"

const d = 48
const n = 1003
const nq = 40
const k = 10
// Not unit vectors: l2 and ip rank differently, so both metrics are really exercised.
const xb = randomUnitVectors(n, d, 11).map((v, i) => v * (1 + (i % 7)))
const xq = randomUnitVectors(nq, d, 12)

/** float64 brute force: per query, [score, index] best first. */
const reference = (metric: "ip" | "l2"): Array<Array<[number, number]>> =>
  Array.from({ length: nq }, (_, q) =>
    Array.from({ length: n }, (_, i): [number, number] => {
      let s = 0
      for (let j = 0; j < d; j++) {
        const a = xq[q * d + j]
        const b = xb[i * d + j]
        s += metric === "ip" ? a * b : (a - b) * (a - b)
      }
      return [s, i]
    })
      .sort((a, b) => (metric === "ip" ? b[0] - a[0] : a[0] - b[0]) || a[1] - b[1])
      .slice(0, k)
  )

describe("ExactSearch (MatMul + TopK on onnxruntime)", () => {
  for (const metric of ["ip", "l2"] as const) {
    const ref = reference(metric)
    for (const corpusAs of ["initializer", "input"] as const) {
      it(`${metric}, corpus as ${corpusAs}, 5 uneven shards, equals the float64 brute force`, async () => {
        // 1003 rows in shards of 250: the last shard has 3 rows, fewer than k
        const exact = await ExactSearch.create(xb, d, { metric, shardSize: 250, queryBatch: 16, corpusAs })
        try {
          const r = await exact.search(xq, k)
          for (let q = 0; q < nq; q++) {
            expect(Array.from(r.labels.subarray(q * k, (q + 1) * k))).toEqual(ref[q].map(([, i]) => i))
            for (let j = 0; j < k; j++) expect(r.distances[q * k + j]).toBeCloseTo(ref[q][j][0], 4)
          }
        } finally {
          await exact.close()
        }
      })
    }
  }

  it("agrees with faiss Flat and pads with -1 when the corpus is smaller than k", async () => {
    const flat = FaissIndex.create({ dim: d, factory: "Flat", metric: "l2" })
    flat.add(Array.from({ length: n }, (_, i) => String(i)), xb)
    const r = await Effect.runPromise(
      Effect.scoped(Effect.flatMap(ExactSearch.scoped(xb, d, { metric: "l2" }), (s) => Effect.promise(() => s.search(xq, k))))
    )
    expect(recallAtK(r.labels, flat.search(xq, k).labels, nq, k)).toBe(1)

    const tiny = await ExactSearch.create(xb.subarray(0, 3 * d), d, { metric: "ip" })
    const t = await tiny.search(xq.subarray(0, d), 5)
    expect(Array.from(t.labels.subarray(3))).toEqual([-1, -1])
    await tiny.close()
  })

  it("bad input and an unavailable execution provider are clear errors", async () => {
    await expect(ExactSearch.create(new Float32Array(0), d, { metric: "ip" })).rejects.toMatchObject({ reason: "EmptyCorpus" })
    await expect(ExactSearch.create(new Float32Array(10), d, { metric: "ip" })).rejects.toThrow(/48-dimensional/)
    const exact = await ExactSearch.create(xb, d, { metric: "ip" })
    await expect(exact.search(new Float32Array(32), k)).rejects.toThrow(/32 floats is not a whole number of 48-dimensional/)
    await exact.close()
    // This repo's onnxruntime-node is the CPU build; where a CUDA build is installed the search must run.
    try {
      const cuda = await ExactSearch.create(xb, d, { metric: "ip", executionProvider: "cuda" })
      const r = await cuda.search(xq, k)
      expect(recallAtK(r.labels, (await (await ExactSearch.create(xb, d, { metric: "ip" })).search(xq, k)).labels, nq, k)).toBe(1)
      await cuda.close()
    } catch (e) {
      expect(e).toBeInstanceOf(FaissIndexError)
      expect((e as FaissIndexError).reason).toBe("Unavailable")
      expect((e as FaissIndexError).message).toMatch(/execution provider "cuda"/)
    }
  })
})

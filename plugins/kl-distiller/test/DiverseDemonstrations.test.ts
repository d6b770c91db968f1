import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { clusterPool, diverseDemonstrations, iclEval } from "../src/index.js"

/**
 * Three well-separated clusters in 2-D of 5, 4 and 3 points, each with a point at or next to its
 * mean (the `c` ones) and the others farther out, so the member nearest the centre k-means finds is
 * that point.
 */
const around = (prefix: string, cx: number, cy: number, offsets: ReadonlyArray<readonly [number, number]>, label: string) => [
  { id: `${prefix}c`, text: `${prefix} centre`, label, x: cx, y: cy },
  ...offsets.map(([dx, dy], i) => ({ id: `${prefix}${i}`, text: `${prefix} ${i}`, label, x: cx + dx, y: cy + dy }))
]
const points = [
  ...around("a", 0, 0, [[1, 0], [-1, 0], [0, 1], [0, -1]], "A"),
  ...around("b", 20, 0, [[1.5, 0], [-1.5, 0], [0, 0.2]], "B"),
  ...around("c", 0, 20, [[0.7, 0], [-0.7, 0]], "C")
]
const pool = points.map(({ id, text, label }) => ({ id, text, label }))
// Rows in a shuffled order with ids: the selection must match rows to examples by id.
const order = [7, 0, 11, 3, 9, 1, 5, 10, 2, 8, 4, 6]
const embeddings = {
  dim: 2,
  count: points.length,
  data: Float32Array.from(order.flatMap((i) => [points[i]!.x, points[i]!.y])),
  ids: order.map((i) => points[i]!.id)
}

describe("k-means-diverse demonstrations", () => {
  const selection = clusterPool(pool, embeddings, 3, 7)

  it("clusters the pool, largest cluster first, each cluster's members nearest its centre first", () => {
    expect(selection.clusters.map((c) => c.map((i) => pool[i]!.id).sort())).toEqual([
      ["a0", "a1", "a2", "a3", "ac"],
      ["b0", "b1", "b2", "bc"],
      ["c0", "c1", "cc"]
    ])
    expect(selection.clusters.map((c) => pool[c[0]!]!.id)).toEqual(["ac", "bc", "cc"])
  })

  it("gives k demonstrations from k distinct clusters, never the query itself", () => {
    const query = { id: "q", text: "a query", label: "A" }
    expect(diverseDemonstrations(selection, pool, query, 3).map((d) => d.id)).toEqual(["ac", "bc", "cc"])
    // A query that is a cluster's centre point gets that cluster's next-nearest member instead.
    const own = diverseDemonstrations(selection, pool, pool.find((e) => e.id === "bc")!, 3)
    expect(own.map((d) => d.label)).toEqual(["A", "B", "C"])
    expect(own[1]!.id).toBe("b2") // (20, 0.2): nearest to the centre after bc
    // k larger than one per cluster: the next round takes each cluster's next-nearest member.
    expect(diverseDemonstrations(selection, pool, query, 5).map((d) => d.label)).toEqual(["A", "B", "C", "A", "B"])
  })

  it("names a pool example without an embedding", () => {
    expect(() => clusterPool([...pool, { id: "zz", text: "new", label: "A" }], embeddings, 3, 7)).toThrow(/'zz' has no embedding/)
  })
})

describe("kl-distiller/icl-eval defaults", () => {
  it("uses k = 8 demonstrations (LLM-R's setting) and takes pool embeddings for the k-means baseline", () => {
    expect(Schema.decodeUnknownSync(iclEval.params)({ model: "m" }).k).toBe(8)
    expect(iclEval.optionalInputs).toContain("poolEmbeddings")
  })
})

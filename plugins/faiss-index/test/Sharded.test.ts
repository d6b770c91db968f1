import { runStageOnce, type Vectors } from "@embedflow/core"
import { describe, expect, it } from "vitest"
import { exactSearch, randomUnitVectors } from "../src/index.js"

// Seeded vectors; queries without ids, so the candidates' query ids are positions in the whole input.
const vectors = (n: number, dim: number, seed: number, ids: boolean): Vectors => ({
  dim,
  count: n,
  data: randomUnitVectors(n, dim, seed),
  ...(ids ? { ids: Array.from({ length: n }, (_, i) => `d${i}`) } : {})
})
const corpus = vectors(600, 24, 1, true)
const queries = vectors(41, 24, 2, false)

type Hit = { readonly queryId: string; readonly docId: string; readonly score: number }
const run = async (shardItems: number) =>
  (await runStageOnce(exactSearch, { k: 7 }, { corpus, queries }, shardItems)).candidates as ReadonlyArray<Hit>

describe("faiss-index/exact-search sharded over queries", () => {
  it("shards of 3 queries give the candidates of one shard, scores bit for bit", async () => {
    const whole = await run(1000)
    const sharded = await run(3)
    expect(whole.length).toBe(41 * 7)
    // Queries without ids are named by their place in the whole input, in every shard.
    expect(whole.at(-1)!.queryId).toBe("40")
    expect(sharded).toEqual(whole)
  })
})

import { ArtifactStore, Graph, makeFileSystem, Plugin, Ports, Runner, Stage } from "@embedflow/core"
import { Effect, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { plugin, randomUnitVectors } from "../src/index.js"

// Seeded vectors; queries without ids, so the candidates' query ids are positions in the whole input.
const vectors = Stage.make({
  name: "vectors/random",
  version: "1",
  description: "seeded random unit vectors",
  params: Schema.Struct({ n: Schema.Number, dim: Schema.Number, seed: Schema.Number, ids: Schema.Boolean }),
  inputs: {},
  outputs: { vectors: Ports.Embeddings },
  run: (p) =>
    Effect.succeed({
      vectors: { dim: p.dim, count: p.n, data: randomUnitVectors(p.n, p.dim, p.seed), ...(p.ids ? { ids: Array.from({ length: p.n }, (_, i) => `d${i}`) } : {}) }
    })
})
const registry = new Plugin.Registry([Plugin.make({ name: "vectors", version: "1", description: "test vectors", stages: [vectors] }), plugin])

const run = async (shardItems: number) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-faiss-sharded-"))
  try {
    return await Effect.runPromise(
      Effect.gen(function* () {
        const graph = yield* Graph.validate(
          {
            name: "faiss-sharded",
            nodes: [
              { id: "corpus", stage: "vectors/random", params: { n: 600, dim: 24, seed: 1, ids: true } },
              { id: "queries", stage: "vectors/random", params: { n: 41, dim: 24, seed: 2, ids: false } },
              { id: "exact", stage: "faiss-index/exact-search", params: { k: 7 }, inputs: { corpus: "corpus.vectors", queries: "queries.vectors" } }
            ]
          },
          registry
        )
        const result = yield* Runner.run(graph, { shardItems })
        return result.nodes.exact!.outputs.candidates as ReadonlyArray<Hit>
      }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
    )
  } finally {
    await fs.rm(root, { recursive: true, force: true })
  }
}

type Hit = { readonly queryId: string; readonly docId: string; readonly score: number }

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

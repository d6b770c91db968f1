import { ArtifactStore, Graph, makeFileSystem, Plugin, Ports, Runner, Stage } from "@embedflow/core"
import { Effect, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { FaissIndex, plugin, randomUnitVectors } from "../src/index.js"

// A test-only source of seeded embeddings, so the graph exercises the real stages end to end.
const vectors = Stage.make({
  name: "vectors/random",
  version: "1",
  description: "seeded random unit vectors",
  params: Schema.Struct({ n: Schema.Number, dim: Schema.Number, seed: Schema.Number, prefix: Schema.String }),
  inputs: {},
  outputs: { vectors: Ports.Embeddings },
  run: (p) =>
    Effect.succeed({
      vectors: { dim: p.dim, count: p.n, data: randomUnitVectors(p.n, p.dim, p.seed), ids: Array.from({ length: p.n }, (_, i) => `${p.prefix}${i}`) }
    })
})
const registry = new Plugin.Registry([Plugin.make({ name: "vectors", version: "1", description: "test vectors", stages: [vectors] }), plugin])

const runGraph = async (raw: unknown) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-faiss-"))
  return Effect.runPromise(
    Effect.gen(function* () {
      const graph = yield* Graph.validate(raw, registry)
      return yield* Runner.run(graph)
    }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
  )
}

type Hit = { queryId: string; docId: string; score: number; rank: number }

describe("faiss-index stages in a graph", () => {
  it("build (HNSW32) -> search agrees with exact-search on onnxruntime", async () => {
    const result = await runGraph({
      name: "faiss-stages",
      nodes: [
        { id: "corpus", stage: "vectors/random", params: { n: 3000, dim: 32, seed: 1, prefix: "doc" } },
        { id: "queries", stage: "vectors/random", params: { n: 50, dim: 32, seed: 2, prefix: "q" } },
        { id: "index", stage: "faiss-index/build", params: { factory: "HNSW32", efSearch: 16 }, inputs: { vectors: "corpus.vectors" } },
        { id: "search", stage: "faiss-index/search", params: { k: 5, efSearch: 128 }, inputs: { index: "index.index", queries: "queries.vectors" } },
        { id: "exact", stage: "faiss-index/exact-search", params: { k: 5 }, inputs: { corpus: "corpus.vectors", queries: "queries.vectors" } }
      ]
    })
    const approx = result.nodes.search!.outputs.candidates as ReadonlyArray<Hit>
    const exact = result.nodes.exact!.outputs.candidates as ReadonlyArray<Hit>
    expect(exact.length).toBe(250)
    expect(exact.slice(0, 2).map((h) => [h.queryId, h.rank])).toEqual([["q0", 1], ["q0", 2]])
    const truth = new Set(exact.map((h) => `${h.queryId}/${h.docId}`))
    expect(approx.filter((h) => truth.has(`${h.queryId}/${h.docId}`)).length / 250).toBeGreaterThanOrEqual(0.95)
    // The saved index keeps its build-time efSearch; the search stage overrides it for its run only.
    const folder = (result.nodes.index!.outputs.index as { path: string }).path
    const saved = FaissIndex.load(folder)
    expect(saved.params).toEqual({ efSearch: 16 })
    expect(saved.size).toBe(3000)
  })

  it("a bad factory fails the build node with the accepted forms", async () => {
    await expect(
      runGraph({
        name: "faiss-bad",
        nodes: [
          { id: "corpus", stage: "vectors/random", params: { n: 10, dim: 8, seed: 1, prefix: "d" } },
          { id: "index", stage: "faiss-index/build", params: { factory: "LSH" }, inputs: { vectors: "corpus.vectors" } }
        ]
      })
    ).rejects.toThrow(/expected one of Flat, IVF\{nlist\},Flat/)
  })
})

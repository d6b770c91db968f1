import { ArtifactStore, Graph, makeFileSystem, Plugin, Runner } from "@embedflow/core"
import { plugin as dataPlugin } from "@embedflow/data"
import { plugin as evalPlugin } from "@embedflow/eval"
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { plugin } from "../src/index.js"

const registry = new Plugin.Registry([dataPlugin, evalPlugin, plugin])

const runGraph = async (raw: unknown) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-bm25-"))
  return Effect.runPromise(
    Effect.gen(function* () {
      const graph = yield* Graph.validate(raw, registry)
      return yield* Runner.run(graph)
    }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
  )
}

describe("bm25 stages in a graph", () => {
  it("data/ir-collection -> bm25/retrieve -> eval/retrieval on Cranfield", async () => {
    const result = await runGraph({
      name: "cranfield-bm25",
      nodes: [
        { id: "cran", stage: "data/ir-collection", params: { collection: "cranfield" } },
        { id: "bm25", stage: "bm25/retrieve", params: { k: 100, includeText: false }, inputs: { corpus: "cran.documents", queries: "cran.queries" } },
        { id: "eval", stage: "eval/retrieval", params: { ks: [10, 100] }, inputs: { candidates: "bm25.candidates", qrels: "cran.qrels" } }
      ]
    })
    const candidates = result.nodes.bm25!.outputs.candidates as ReadonlyArray<{ queryId: string; rank: number }>
    // At most 100 per query; a few queries share terms with fewer than 100 documents.
    const perQuery = new Map<string, number>()
    for (const c of candidates) perQuery.set(c.queryId, (perQuery.get(c.queryId) ?? 0) + 1)
    expect(perQuery.size).toBe(225)
    expect(Math.max(...perQuery.values())).toBe(100)
    expect(candidates.length).toBeGreaterThan(22_000)
    expect(candidates.slice(0, 3).map((c) => [c.queryId, c.rank])).toEqual([["1", 1], ["1", 2], ["1", 3]])
    const report = result.nodes.eval!.outputs.report as { queries: number; metrics: Record<string, number> }
    expect(report.queries).toBe(225)
    // English stop words, no stemming: 0.3357 measured with the library directly.
    expect(report.metrics.ndcg_at_10).toBeCloseTo(0.3357, 3)
  })

  it("data/snli-triples -> bm25/hard-negatives fills negatives that are neither the positive nor the anchor", async () => {
    const result = await runGraph({
      name: "snli-negatives",
      nodes: [
        { id: "snli", stage: "data/snli-triples", params: { split: "dev" } },
        { id: "neg", stage: "bm25/hard-negatives", params: { negatives: 2, skip: 1 }, inputs: { pairs: "snli.triples", corpus: "snli.premises" } }
      ]
    })
    const pairs = result.nodes.snli!.outputs.triples as ReadonlyArray<{ anchor: string; positive: string }>
    const triples = result.nodes.neg!.outputs.triples as ReadonlyArray<{ anchor: string; positive: string; negative: string; meta: { bm25Rank: number } }>
    expect(triples.length).toBeGreaterThan(1.9 * pairs.length)
    for (const t of triples) {
      expect(t.negative).not.toBe(t.positive)
      expect(t.negative).not.toBe(t.anchor)
    }
    expect(new Set(triples.map((t) => t.meta.bm25Rank))).toEqual(new Set([2, 3]))
  })
})

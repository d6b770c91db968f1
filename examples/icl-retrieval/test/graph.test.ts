import { ArtifactStore, Graph, makeFileSystem, Plugin, Runner } from "@embedflow/core"
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import YAML from "yaml"
import { describe, expect, inject, it } from "vitest"

const here = path.resolve(import.meta.dirname, "..")

/**
 * The example graph, shrunk (pool, queries, candidates, epochs) so the whole LLM-R pipeline runs in
 * seconds on the tiny models, through the real runner and onnxruntime.
 */
const smallGraph = async (file = "graph.yaml") => {
  const graph = YAML.parse(await fs.readFile(path.join(here, file), "utf8")) as {
    nodes: Array<{ id: string; stage: string; params?: Record<string, unknown> }>
  }
  const tiny = inject("tinyModels")
  const sizes: Record<string, number> = { pool: 48, heldout: 10, test: 12 }
  for (const node of graph.nodes) {
    const p = (node.params ??= {})
    if (node.id in sizes) p.count = sizes[node.id]
    for (const key of ["model", "encoder"]) {
      if (typeof p[key] === "string") p[key] = path.join(tiny, path.basename(p[key] as string))
    }
    if ("k" in p && node.stage !== "kl-distiller/icl-eval") p.k = 6
    if ("candidatesPerQuery" in p) p.candidatesPerQuery = 6
    if ("epochs" in p) p.epochs = 3
    if (node.stage === "kl-distiller/icl-eval") p.k = 2
  }
  return graph
}

describe("examples/icl-retrieval/graph.yaml", () => {
  it("runs end to end: two LLM-R rounds and the ICL table with every method", async () => {
    const graph = await smallGraph()
    const registry = new Plugin.Registry(
      await Promise.all(["@embedflow/bm25", "@embedflow/llm-scorer", "@embedflow/reward-cross-encoder", "@embedflow/kl-distiller", "@embedflow/models"].map((name) => Plugin.load(name)))
    )
    const store = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-icl-retrieval-"))
    try {
      const result = await Effect.runPromise(
        Effect.gen(function* () {
          const validated = yield* Graph.validate(graph, registry, { baseDir: here })
          return yield* Runner.run(validated, { layer: registry.layer() })
        }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(store)))
      )
      const report = result.nodes.icl!.outputs.report as {
        table: { rows: Array<{ method: string; k: number; accuracy: number; correct: number; total: number }> }
        markdown: string
        labels: Array<string>
        predictions: Record<string, Array<{ id: string; gold: string; predicted: string; demonstrations: Array<string> }>>
      }
      expect(report.table.rows.map((r) => r.method)).toEqual(["zero-shot", "random", "k-means diverse", "BM25", "base encoder", "LLM-R retriever"])
      const testIds = (result.nodes.test!.outputs.examples as Array<{ id: string }>).map((e) => e.id)
      for (const r of report.table.rows) {
        // Each row is recomputed from its predictions: 12 test queries, each answered with one of the
        // task's labels, after k demonstrations (none zero-shot, k = 2 otherwise).
        const predictions = report.predictions[r.method]!
        expect(predictions.map((p) => p.id)).toEqual(testIds)
        expect(predictions.every((p) => report.labels.includes(p.predicted) && report.labels.includes(p.gold))).toBe(true)
        expect(predictions.map((p) => p.demonstrations.length)).toEqual(testIds.map(() => (r.method === "zero-shot" ? 0 : 2)))
        expect(r.k).toBe(r.method === "zero-shot" ? 0 : 2)
        expect(r.total).toBe(12)
        expect(r.correct).toBe(predictions.filter((p) => p.predicted === p.gold).length)
        expect(r.accuracy).toBe(r.correct / r.total)
      }
      // Round 2 mined its candidates with the round-1 retriever: every pool example got k of them.
      const mined = result.nodes["candidates-2"]!.outputs.candidates as Array<{ queryId: string; docId: string }>
      expect(mined.length).toBe(48 * 6)
      expect(mined.every((c) => c.queryId !== c.docId)).toBe(true)
      const distilled = result.nodes.retriever!.outputs.report as { kendallTau: { base: number; distilled: number } }
      expect(Number.isFinite(distilled.kendallTau.distilled)).toBe(true)
      console.log(report.markdown)
      console.log(`Kendall tau with the LLM on held-out queries: base ${distilled.kendallTau.base.toFixed(3)}, distilled ${distilled.kendallTau.distilled.toFixed(3)}`)
    } finally {
      await fs.rm(store, { recursive: true, force: true })
    }
  })

  it("graph-backbone.yaml runs end to end: cross-encoder and retriever backbones trained, round 2 accumulates rounds and continues from round 1", async () => {
    const graph = await smallGraph("graph-backbone.yaml")
    const registry = new Plugin.Registry(
      await Promise.all(["@embedflow/bm25", "@embedflow/llm-scorer", "@embedflow/reward-cross-encoder", "@embedflow/kl-distiller"].map((name) => Plugin.load(name)))
    )
    const store = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-icl-backbone-"))
    try {
      const result = await Effect.runPromise(
        Effect.gen(function* () {
          const validated = yield* Graph.validate(graph, registry, { baseDir: here })
          return yield* Runner.run(validated, { layer: registry.layer() })
        }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(store)))
      )
      const reward = result.nodes["reward-1"]!.outputs.report as { train: string; trainableParameters: number }
      expect(reward.train).toBe("backbone")
      const r2 = result.nodes.retriever!.outputs.report as { train: string; rounds: string; continuedFrom: string | null; queries: number }
      expect(r2).toMatchObject({ train: "backbone", rounds: "accumulated" })
      expect(r2.continuedFrom).toBe((result.nodes["retriever-1"]!.outputs.model as { path: string }).path)
      const rows = (result.nodes.icl!.outputs.report as { table: { rows: Array<{ method: string; total: number }> } }).table.rows
      expect(rows.map((r) => r.method)).toEqual(["zero-shot", "random", "BM25", "base encoder", "LLM-R retriever"])
    } finally {
      await fs.rm(store, { recursive: true, force: true })
    }
  })
})

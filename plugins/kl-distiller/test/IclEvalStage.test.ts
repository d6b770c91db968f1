import { StageContext } from "@embedflow/core"
import { type CausalLMShape, ModelHub } from "@embedflow/models"
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { iclEval } from "../src/index.js"

/** An LLM that prefers the label shown most often in the prompt's demonstrations ("Output: <label>"). */
const countingLM: CausalLMShape = {
  model: "counting",
  vocabSize: 0,
  eosTokenId: undefined,
  encode: () => [],
  decode: () => "",
  decoder: () => Effect.die("unused"),
  generate: () => Effect.die("unused"),
  logLikelihood: (pairs) =>
    Effect.succeed(pairs.map((p) => ({ total: p.prompt.split(`Output: ${p.continuation.trim()}\n`).length - 1 - 10, tokens: 1 })))
}
const hub = ModelHub.of({ encoder: () => Effect.die("unused"), causalLM: () => Effect.succeed(countingLM), crossEncoder: () => Effect.die("unused") })
const context = StageContext.of({
  nodeId: "icl",
  stageName: iclEval.name,
  seed: 11,
  scratchDir: "/tmp",
  resolvePath: (p) => p,
  progress: () => Effect.void,
  metric: () => Effect.void,
  log: () => Effect.void
})

// Three separated clusters of pool examples in 2-D, one label each.
const cluster = (label: string, cx: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `${label}${i}`, text: `${label} example ${i}`, label, x: cx + (i - (n - 1) / 2) * 0.1 }))
const points = [...cluster("a", 0, 5), ...cluster("b", 10, 4), ...cluster("c", 20, 3)]
const pool = points.map(({ id, text, label }) => ({ id, text, label }))
const poolEmbeddings = { dim: 2, count: points.length, data: Float32Array.from(points.flatMap((p) => [p.x, 1])), ids: points.map((p) => p.id) }
const test = [
  { id: "q0", text: "first query", label: "a" },
  { id: "q1", text: "second query", label: "b" }
]

describe("kl-distiller/icl-eval with k-means diverse and a short retriever", () => {
  it("adds the k-means-diverse row (one demonstration per cluster) and pads a retriever's missing places", async () => {
    const params = Schema.decodeUnknownSync(iclEval.params)({ model: "lm", k: 3 })
    // BM25 found one hit for q0 and none for q1.
    const bm25 = [{ queryId: "q0", docId: "b2", rank: 1, score: 3 }]
    const { report } = await Effect.runPromise(
      iclEval.run(params, { pool, test, poolEmbeddings, bm25, base: undefined, trained: undefined } as never).pipe(
        Effect.provideService(StageContext, context),
        Effect.provideService(ModelHub, hub)
      )
    )
    const r = report as {
      table: { rows: Array<{ method: string; k: number; padded?: number }>; notes: Array<string> }
      predictions: Record<string, Array<{ id: string; demonstrations: Array<string> }>>
    }
    expect(r.table.rows.map((x) => x.method)).toEqual(["zero-shot", "random", "k-means diverse", "BM25"])
    // k-means diverse: one demonstration from each cluster, largest cluster (a) nearest the query (last).
    for (const p of r.predictions["k-means diverse"]!) {
      expect(p.demonstrations.map((id) => id[0]).sort()).toEqual(["a", "b", "c"])
      expect(p.demonstrations[2]![0]).toBe("a")
    }
    // BM25: q0 keeps its one hit nearest the query and gets 2 random ones; q1 gets 3 random ones.
    const bm = r.predictions.BM25!
    expect(bm.map((p) => p.demonstrations.length)).toEqual([3, 3])
    expect(bm[0]!.demonstrations[2]).toBe("b2")
    expect(new Set(bm[0]!.demonstrations).size).toBe(3)
    expect(r.table.rows.find((x) => x.method === "BM25")!.padded).toBe(5)
    expect(r.table.notes.some((n) => n.includes("BM25: 5 demonstration(s) padded"))).toBe(true)
  })
})

import { ArtifactStore, Graph, makeFileSystem, Plugin, Ports, Runner, Stage } from "@embedflow/core"
import { plugin as dataPlugin, StsB } from "@embedflow/data"
import { Effect, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { evaluateSts, pairMatrices, plugin } from "../src/index.js"
import { hashEmbed as hashedBagOfWords } from "./hashEmbed.js"

const embed = (text: string, dim = 512): Float32Array => hashedBagOfWords(text, dim)

const hashEmbed = Stage.make({
  name: "test/hash-embed",
  version: "1",
  description: "hashed bag-of-words vectors",
  params: Schema.Struct({}),
  inputs: { texts: Ports.Texts },
  outputs: { embeddings: Ports.Embeddings },
  run: (_p, inputs) =>
    Effect.sync(() => {
      const dim = 512
      const data = new Float32Array(inputs.texts.length * dim)
      inputs.texts.forEach((t, i) => data.set(embed(t.text, dim), i * dim))
      // Rows in reverse order with ids: eval/sts must join by id, not position.
      const order = inputs.texts.map((_, i) => inputs.texts.length - 1 - i)
      const shuffled = new Float32Array(data.length)
      order.forEach((src, dst) => shuffled.set(data.subarray(src * dim, (src + 1) * dim), dst * dim))
      return { embeddings: { dim, count: inputs.texts.length, data: shuffled, ids: order.map((i) => inputs.texts[i]!.id) } }
    })
})

const registry = new Plugin.Registry([dataPlugin, plugin, Plugin.make({ name: "test", version: "1", description: "", stages: [hashEmbed] })])

describe("eval stages", () => {
  it("data/sts-b -> embed -> eval/sts equals the library computation on STS-B test", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "embedflow-eval-"))
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const graph = yield* Graph.validate(
          {
            name: "sts",
            nodes: [
              { id: "sts", stage: "data/sts-b", params: { split: "test" } },
              { id: "emb", stage: "test/hash-embed", inputs: { texts: "sts.sentences" } },
              { id: "eval", stage: "eval/sts", params: { title: "STS-B test" }, inputs: { pairs: "sts.pairs", sentences: "sts.sentences", embeddings: "emb.embeddings" } }
            ]
          },
          registry
        )
        return yield* Runner.run(graph)
      }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
    )
    const report = result.nodes.eval!.outputs.report as { spearman: number; pearson: number; count: number; title: string }
    const pairs = await Effect.runPromise(StsB.load("test"))
    const dim = 512
    const a = { dim, count: pairs.length, data: new Float32Array(pairs.length * dim) }
    const b = { dim, count: pairs.length, data: new Float32Array(pairs.length * dim) }
    pairs.forEach((p, i) => {
      a.data.set(embed(p.sentence1), i * dim)
      b.data.set(embed(p.sentence2), i * dim)
    })
    const direct = await Effect.runPromise(evaluateSts(a, b, pairs.map((p) => p.score)))
    expect(report).toMatchObject({ title: "STS-B test", count: 1379 })
    expect(report.spearman).toBeCloseTo(direct.spearman, 10)
    // Word overlap is a known weak STS baseline (~0.5-0.6 Spearman).
    expect(report.spearman).toBeGreaterThan(0.4)
    expect(report.spearman).toBeLessThan(0.75)
  })

  it("pairMatrices names the pair and sentence it cannot place", () => {
    const emb = { dim: 1, count: 1, data: Float32Array.of(1), ids: ["s0"] }
    const sentences = [{ id: "s0", text: "x" }, { id: "s1", text: "y" }]
    expect(() => pairMatrices([{ id: "p1", a: "x", b: "z", score: 1 }], sentences, emb)).toThrow(/pair p1: sentence "z" is not among/)
    expect(() => pairMatrices([{ id: "p1", a: "x", b: "y", score: 1 }], sentences, emb)).toThrow(/sentence id 's1' has no embedding/)
    expect(() => pairMatrices([], sentences, { dim: 1, count: 1, data: Float32Array.of(1) })).toThrow(/no ids and 1 rows for 2 sentences/)
  })
})

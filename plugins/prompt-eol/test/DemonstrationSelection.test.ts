import { ArtifactStore, Graph, makeFileSystem, Plugin, Ports, Runner, Stage, StageContext } from "@embedflow/core"
import { evaluateSts } from "@embedflow/eval"
import { layerModelHub } from "@embedflow/models"
import { Effect, Schema } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, inject, it } from "vitest"
import { type Demonstration, embed, makePromptEolEncoder, plugin, rankDemonstrations } from "../src/index.js"

// Dev pairs with distinct gold scores: the sentence text says how similar the pair is meant to be.
const dev = [
  { id: "0", a: "s0", b: "t0", score: 0.5 },
  { id: "1", a: "s1", b: "t1", score: 4.5 },
  { id: "2", a: "s2", b: "t2", score: 2.0 },
  { id: "3", a: "s3", b: "t3", score: 3.0 },
  { id: "4", a: "s4", b: "t4", score: 1.0 }
]

/**
 * A constructed embedder: under the "good" demonstration pair i's two sentences lie at an angle that
 * shrinks as the gold score grows (Spearman 1); under "reversed" the angle grows with it (-1); under
 * "noisy" the angles follow a fixed shuffle (between the two).
 */
const angleOf: Record<string, (score: number, i: number) => number> = {
  good: (score) => (5 - score) * 0.3,
  reversed: (score) => score * 0.3,
  noisy: (_score, i) => [0.2, 0.9, 0.5, 1.2, 0.1][i]!
}
const embedUnder = (d: Demonstration) => (texts: ReadonlyArray<string>) =>
  Effect.sync(() => {
    const rows = new Float32Array(texts.length * 2)
    texts.forEach((t, r) => {
      const i = Number(t.slice(1))
      const angle = t.startsWith("s") ? 0 : angleOf[d.word]!(dev[i]!.score, i)
      rows[2 * r] = Math.cos(angle)
      rows[2 * r + 1] = Math.sin(angle)
    })
    return rows
  })

describe("rankDemonstrations", () => {
  it("ranks candidates by dev Spearman under each demonstration alone, the best first", async () => {
    const candidates = ["noisy", "reversed", "good"].map((word) => ({ sentence: `about ${word}`, word }))
    const ranked = await Effect.runPromise(rankDemonstrations(candidates, dev, embedUnder))
    expect(ranked.map((r) => r.demonstration.word)).toEqual(["good", "noisy", "reversed"])
    expect(ranked[0]!.spearman).toBeCloseTo(1, 12)
    expect(ranked[2]!.spearman).toBeCloseTo(-1, 12)
    // noisy: cosines cos(0.2, 0.9, 0.5, 1.2, 0.1) against gold (0.5, 4.5, 2, 3, 1) -> ranks (4,2,3,1,5) vs
    // (1,5,3,4,2), d^2 = 9+9+0+9+9 = 36: rho = 1 - 6*36/(5*24) = -0.8
    expect(ranked[1]!.spearman).toBeCloseTo(-0.8, 12)
  })
})

// ---- the stage on tiny-gpt2, in a graph
const pairs = Stage.make({
  name: "fixture/pairs",
  version: "1",
  description: "scored pairs given inline",
  params: Schema.Struct({ pairs: Schema.Array(Schema.Struct({ a: Schema.String, b: Schema.String, score: Schema.Number })) }),
  inputs: {},
  outputs: { pairs: Ports.ScoredPairs, texts: Ports.Texts },
  run: (params) =>
    Effect.succeed({
      pairs: params.pairs.map((p, i) => ({ id: `p${i}`, ...p })),
      texts: params.pairs.map((p, i) => ({ id: `t${i}`, text: p.a }))
    })
})
const registry = new Plugin.Registry([Plugin.make({ name: "fixture", version: "1", description: "test fixture", stages: [pairs] }), plugin])
const roots: Array<string> = []
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })))

describe("prompt-eol/select-demonstration on tiny-gpt2", () => {
  const stsDev = [
    { a: "A man is playing a guitar.", b: "A man plays the guitar.", score: 4.8 },
    { a: "A woman is slicing an onion.", b: "A woman cuts an onion.", score: 4.2 },
    { a: "Two dogs run in the snow.", b: "A cat sleeps on a sofa.", score: 0.4 },
    { a: "Children play soccer in a park.", b: "Kids are playing football outside.", score: 3.9 },
    { a: "A plane is taking off.", b: "A man is eating pasta.", score: 0.1 },
    { a: "The stock market fell today.", b: "Shares dropped sharply.", score: 3.1 },
    { a: "A bird sits on a branch.", b: "A bird is flying.", score: 2.2 },
    { a: "He opened the door.", b: "The door was closed by him.", score: 1.5 }
  ]
  const candidates = [
    { sentence: "A jockey riding a horse.", word: "Equestrian" },
    { sentence: "meat from a deer.", word: "Venison" },
    { sentence: "A man is playing on a guitar and singing.", word: "Music" },
    { sentence: "relating to switzerland or its people.", word: "Swiss" }
  ]

  it("keeps the candidate with the best dev Spearman (checked against the encoder and evaluateSts), and embed reads it from its input", async () => {
    const model = join(inject("tinyModels"), "tiny-gpt2")
    const root = mkdtempSync(join(tmpdir(), "embedflow-prompt-eol-select-"))
    roots.push(root)
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const graph = yield* Graph.validate(
          {
            name: "select",
            nodes: [
              { id: "dev", stage: "fixture/pairs", params: { pairs: stsDev } },
              { id: "select", stage: "prompt-eol/select-demonstration", params: { model, candidates, batchSize: 5 }, inputs: { dev: "dev.pairs" } },
              { id: "emb", stage: "prompt-eol/embed", params: { model }, inputs: { texts: "dev.texts", demonstrations: "select.demonstrations" } }
            ]
          },
          registry
        )
        return yield* Runner.run(graph, { layer: registry.layer() })
      }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)))
    )
    // Independently: each candidate through the public encoder, then eval's STS.
    const independent = await Effect.runPromise(
      Effect.gen(function* () {
        const out: Array<number> = []
        for (const d of candidates) {
          const enc = yield* makePromptEolEncoder({ model, demonstrations: [d] })
          const a = yield* enc.embed(stsDev.map((p) => p.a))
          const b = yield* enc.embed(stsDev.map((p) => p.b))
          const r = yield* evaluateSts({ dim: enc.dim, count: stsDev.length, data: a }, { dim: enc.dim, count: stsDev.length, data: b }, stsDev.map((p) => p.score))
          out.push(r.spearman)
        }
        return out
      }).pipe(Effect.provide(layerModelHub()))
    )
    const report = result.nodes.select!.outputs.report as { ranking: Array<{ demonstration: Demonstration; spearman: number }> }
    expect(report.ranking).toHaveLength(4)
    for (const r of report.ranking) {
      const i = candidates.findIndex((c) => c.word === r.demonstration.word)
      expect(r.spearman).toBeCloseTo(independent[i]!, 5)
    }
    const best = independent.indexOf(Math.max(...independent))
    // The candidates must not all tie, or the choice would not be tested.
    expect(new Set(independent.map((x) => x.toFixed(6))).size).toBeGreaterThan(1)
    expect(result.nodes.select!.outputs.demonstrations).toEqual([candidates[best]])

    const embedded = result.nodes.emb!.outputs.embeddings as { data: Float32Array }
    const direct = await Effect.runPromise(
      Effect.gen(function* () {
        const enc = yield* makePromptEolEncoder({ model, demonstrations: [candidates[best]!] })
        return yield* enc.embed(stsDev.map((p) => p.a))
      }).pipe(Effect.provide(layerModelHub()))
    )
    let diff = 0
    for (let i = 0; i < direct.length; i++) diff = Math.max(diff, Math.abs(direct[i]! - embedded.data[i]!))
    expect(diff).toBeLessThan(1e-6)
  })
})

describe("prompt-eol/embed's demonstrations input", () => {
  it("refuses demonstrations from both the param and the input", async () => {
    const params = Schema.decodeUnknownSync(embed.params)({ model: "m", demonstrations: [{ sentence: "s", word: "w" }] })
    const context = StageContext.of({
      nodeId: "emb",
      stageName: embed.name,
      seed: 1,
      scratchDir: tmpdir(),
      resolvePath: (p) => p,
      progress: () => Effect.void,
      metric: () => Effect.void,
      log: () => Effect.void
    })
    const run = embed.run(params, { texts: [{ id: "t", text: "x" }], demonstrations: [{ sentence: "s2", word: "w2" }] })
    await expect(Effect.runPromise(run.pipe(Effect.provideService(StageContext, context), Effect.provide(layerModelHub())))).rejects.toThrow(
      /from the param or the input, not both/
    )
  })
})

import { ArtifactStore, Graph, makeFileSystem, Plugin, Ports, Runner, Stage } from "@embedflow/core"
import { plugin as data } from "@embedflow/data"
import { encoderConfig, layerModelHub, makeEncoder, makeModelHub, readModelCard, readTokenBags } from "@embedflow/models"
import { Linear, matrix, type TokenDeltaJson, TokenDelta } from "@embedflow/tensor"
import { Effect, Schema } from "effect"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { HEAD_FILE, plugin, readHeadConfig, TOKEN_DELTA_FILE } from "../src/index.js"

// The real GloVe static encoder built by tools/setup.sh (the README's test command runs it first).
const glove = resolve(import.meta.dirname, "../../../models/glove-6b-100d")

// A test-only stage: the first `count` triples, so training stays quick.
const take = Stage.make({
  name: "fixture/take",
  version: "1",
  description: "the first triples",
  params: Schema.Struct({ count: Schema.Number }),
  inputs: { triples: Ports.Triples },
  outputs: { triples: Ports.Triples },
  run: (params, inputs) => Effect.succeed({ triples: inputs.triples.slice(0, params.count) })
})
// A test-only stage: consecutive unmasked batches (what false-negative-masker/mask gives with mode "none",
// without its shuffle), so this plugin's test needs no other plugin.
const batch = Stage.make({
  name: "fixture/batch",
  version: "1",
  description: "consecutive unmasked batches",
  params: Schema.Struct({ batchSize: Schema.Number }),
  inputs: { triples: Ports.Triples },
  outputs: { batches: Ports.MaskedBatches },
  run: (params, inputs) => {
    const batches: Array<Ports.MaskedBatch> = []
    for (let s = 0; s < inputs.triples.length; s += params.batchSize) {
      const slice = inputs.triples.slice(s, s + params.batchSize)
      const owned = slice.flatMap((t, i) => (t.negative === undefined ? [] : [{ text: t.negative, owner: i }]))
      const cols = slice.length + owned.length
      batches.push({
        index: batches.length,
        anchors: slice.map((t) => t.anchor),
        positives: slice.map((t) => t.positive),
        negatives: owned.map((n) => n.text),
        negativeOwners: owned.map((n) => n.owner),
        mask: Ports.packMask(new Uint8Array(slice.length * cols)),
        masked: 0
      })
    }
    return Effect.succeed({ batches })
  }
})
const registry = new Plugin.Registry([Plugin.make({ name: "fixture", version: "1", description: "test fixture", stages: [take, batch] }), data, plugin])

const roots: Array<string> = []
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })))

const trainGraph = (tuneWordVectors: boolean, normalize = true) => ({
  name: "word-vectors",
  seed: 7,
  nodes: [
    { id: "snli", stage: "data/snli-triples", params: { split: "dev" } },
    { id: "dev", stage: "data/sts-b", params: { split: "dev" } },
    { id: "take", stage: "fixture/take", params: { count: 384 }, inputs: { triples: "snli.triples" } },
    { id: "batches", stage: "fixture/batch", params: { batchSize: 64 }, inputs: { triples: "take.triples" } },
    {
      id: "train",
      stage: "contrastive-trainer/train",
      params: { encoder: glove, onnxFile: "onnx/model_sif.onnx", temperature: 0.1, lr: 0.002, wordVectorLr: 0.01, epochs: 2, patience: 2, tuneWordVectors, normalize },
      inputs: { batches: "batches.batches", dev: "dev.pairs" }
    }
  ]
})

const runGraph = (raw: unknown) => {
  const root = mkdtempSync(join(tmpdir(), "embedflow-word-vectors-"))
  roots.push(root)
  return Effect.runPromise(
    Effect.gen(function* () {
      const graph = yield* Graph.validate(raw, registry)
      return yield* Runner.run(graph, { layer: registry.layer() })
    }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(root)), Effect.provide(layerModelHub()))
  )
}

interface TrainReport {
  readonly objectiveBefore: number
  readonly objectiveAfter: number
  readonly wordVectors?: { readonly tuned: number; readonly changed: number }
}

describe("contrastive-trainer/train with tuneWordVectors (GloVe static encoder, SNLI dev slice)", () => {
  it("tunes the training words' vectors, and the exported folder reproduces head(x + Σ c·Δ) in one ONNX graph", async () => {
    if (!existsSync(join(glove, "onnx/model_sif.onnx"))) throw new Error(`${glove} is missing: run \`bash tools/setup.sh\``)
    // Unnormalised output (normalize: false), so the comparison also checks the scale.
    const result = await runGraph(trainGraph(true, false))
    const report = result.nodes.train!.outputs.report as TrainReport
    const folder = (result.nodes.train!.outputs.model as { path: string }).path
    expect(report.objectiveAfter).toBeLessThan(report.objectiveBefore)
    expect(report.wordVectors!.tuned).toBeGreaterThan(500)
    expect(report.wordVectors!.changed).toBe(report.wordVectors!.tuned)

    const delta = TokenDelta.fromJSON(JSON.parse(readFileSync(join(folder, TOKEN_DELTA_FILE), "utf8")) as TokenDeltaJson)
    const saved = (await readHeadConfig(folder))!
    expect(existsSync(join(folder, HEAD_FILE))).toBe(true)
    // Two texts of tuned words, one with no tuned word (unchanged but for the head).
    const texts = ["Two women are embracing while holding to go packages.", "A man is playing a guitar.", "Quantum chromodynamics."]
    const { inProcess, exported } = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const base = yield* makeEncoder(encoderConfig({ model: glove, onnxFile: "onnx/model_sif.onnx", pooling: "mean", normalize: false }))
          const bags = yield* readTokenBags({ model: glove, onnxFile: "onnx/model_sif.onnx" }, texts)
          const x = matrix(texts.length, base.dim, yield* base.embed(texts))
          const inProcess = saved.head.predict(delta.predict(x, bags)).data
          const loaded = yield* (yield* makeModelHub()).encoder({ model: folder, pooling: "mean", normalize: false })
          return { inProcess, exported: yield* loaded.embed(texts) }
        })
      )
    )
    let worst = 0
    for (let i = 0; i < inProcess.length; i++) worst = Math.max(worst, Math.abs(inProcess[i]! - exported[i]!))
    expect(worst).toBeLessThan(1e-4)
    expect(Math.hypot(...inProcess.subarray(0, 100))).not.toBeCloseTo(1, 2)
    expect(JSON.parse(readFileSync(join(folder, "config.json"), "utf8")).embedflow).toMatchObject({ normalize: false, tokenDelta: report.wordVectors!.tuned })
    expect(saved.head).toBeInstanceOf(Linear)
    // The model card: what the folder is, and the dev Spearman the trainer reported.
    const card = readModelCard(folder)!
    expect(card.pipeline_tag).toBe("sentence-similarity")
    expect(card.base_model).toBe(saved.baseModel)
    const devSpearman = (report as { devSpearman?: number }).devSpearman
    expect(devSpearman).toBeTypeOf("number")
    expect(card["model-index"]).toEqual([
      {
        name: "model",
        results: [{ task: { type: "STS" }, dataset: { type: "embedflow/dev-pairs", name: "the stage's dev pairs", split: "dev" }, metrics: [{ type: "cos_sim_spearman", value: 100 * devSpearman! }] }]
      }
    ])
    expect(existsSync(join(folder, "modules.json"))).toBe(true)
  }, 120_000)

  it("without tuneWordVectors no delta is trained or written, and the objective differs", async () => {
    const [tuned, plain] = [await runGraph(trainGraph(true)), await runGraph(trainGraph(false))]
    const a = tuned.nodes.train!.outputs.report as TrainReport
    const b = plain.nodes.train!.outputs.report as TrainReport
    expect(b.wordVectors).toBeUndefined()
    expect(existsSync(join((plain.nodes.train!.outputs.model as { path: string }).path, TOKEN_DELTA_FILE))).toBe(false)
    expect(a.objectiveBefore).toBeCloseTo(b.objectiveBefore, 6)
    expect(a.objectiveAfter).toBeLessThan(b.objectiveAfter)
  }, 120_000)
})

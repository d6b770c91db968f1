import { AutoModel, AutoTokenizer } from "@huggingface/transformers"
import { ArtifactStore, Graph, makeFileSystem, Plugin, Ports, Runner, Stage } from "@embedflow/core"
import { plugin as data } from "@embedflow/data"
import { BackboneTuner, layerModelHub, makeModelHub } from "@embedflow/models"
import { l2Normalize, loadOnnxModel, matrix, pairInfoNce } from "@embedflow/tensor"
import { Effect, Schema } from "effect"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as ort from "onnxruntime-node"
import { afterAll, describe, expect, inject, it } from "vitest"
import { plugin } from "../src/index.js"

const base = () => join(inject("tinyModels"), "tiny-bert")
const roots: Array<string> = []
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })))
const tmp = () => {
  const r = mkdtempSync(join(tmpdir(), "ct-backbone-"))
  roots.push(r)
  return r
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

/** Largest absolute change of each named weight between two folders' graphs. */
const weightChanges = (a: string, b: string): Map<string, number> => {
  const x = loadOnnxModel(a).model.allParams(), y = loadOnnxModel(b).model.allParams()
  return new Map(x.map((p, i) => [p.name, maxAbsDiff(p.value, y[i]!.value)]))
}

const texts = ["A man is playing a guitar.", "Two dogs run through the snow.", "A woman slices an onion.", "Kids play football in the park."]

/** Mean-pooled, L2-normalised sentence embeddings of an exported folder, straight from onnxruntime. */
const viaOnnxRuntime = async (dir: string, input: ReadonlyArray<string>): Promise<Float32Array> => {
  const tok = await AutoTokenizer.from_pretrained(dir, { local_files_only: true })
  const enc = tok(input as Array<string>, { padding: true })
  const session = await ort.InferenceSession.create(join(dir, "onnx/model.onnx"))
  const feeds: Record<string, ort.Tensor> = {}
  for (const name of session.inputNames) {
    const t = (enc as unknown as Record<string, { data: BigInt64Array; dims: Array<number> }>)[name]!
    feeds[name] = new ort.Tensor("int64", t.data as BigInt64Array, t.dims)
  }
  const out = (await session.run(feeds)).last_hidden_state!
  const [B, S, H] = out.dims as [number, number, number]
  const mask = enc.attention_mask.data as BigInt64Array
  const pooled = matrix(B, H)
  for (let b = 0; b < B; b++) {
    let n = 0
    for (let s = 0; s < S; s++) {
      if (mask[b * S + s] === 0n) continue
      n++
      for (let h = 0; h < H; h++) pooled.data[b * H + h]! += (out.data as Float32Array)[(b * S + s) * H + h]!
    }
    for (let h = 0; h < H; h++) pooled.data[b * H + h]! /= n
  }
  return l2Normalize(pooled).y.data
}

describe("BackboneTuner on tiny-bert (what train: backbone | lora runs)", () => {
  for (const mode of ["backbone", "lora"] as const) {
    it(`${mode}: a few InfoNCE steps lower the loss, change the encoder's weights, and the export reproduces the in-process embeddings (Encoder, onnxruntime, transformers.js)`, async () => {
      const anchors = texts, positives = texts.map((t) => t.toUpperCase().replace(".", "!"))
      const out = join(tmp(), mode)
      const { before, after, inProcess, viaHub } = await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const tuner = yield* BackboneTuner.load(base(), { mode, pooling: "mean", lr: mode === "lora" ? 2e-2 : 5e-3, warmupSteps: 0, totalSteps: 30, dropout: 0, lora: { rank: 4 }, seed: 3, chunkSize: 3 })
            const lossNow = () => pairInfoNce(tuner.embed({ texts: anchors }), tuner.embed({ texts: positives }), { temperature: 0.1 }).loss
            const before = lossNow()
            for (let s = 0; s < 30; s++) {
              tuner.step([{ texts: anchors }, { texts: positives }], ([a, c]) => {
                const r = pairInfoNce(a!, c!, { temperature: 0.1 })
                const { dAnchors, dCandidates } = r.backward()
                return { loss: r.loss, grads: [dAnchors, dCandidates] }
              })
            }
            const after = lossNow()
            const inProcess = tuner.embed({ texts }).data // before any merge
            yield* tuner.save(out)
            const hub = yield* makeModelHub()
            const loaded = yield* hub.encoder({ model: out, pooling: "mean", normalize: true })
            return { before, after, inProcess, viaHub: yield* loaded.embed(texts) }
          })
        )
      )
      expect(after).toBeLessThan(0.8 * before)
      expect(maxAbsDiff(viaHub, inProcess)).toBeLessThan(1e-4)
      expect(maxAbsDiff(await viaOnnxRuntime(out, texts), inProcess)).toBeLessThan(1e-4)
      // transformers.js AutoModel on the folder: the same hidden states (checked through the first sentence's pooled vector)
      const tok = await AutoTokenizer.from_pretrained(out, { local_files_only: true })
      const model = await AutoModel.from_pretrained(out, { local_files_only: true, dtype: "fp32" })
      const h = (await model(tok([texts[0]!]))).last_hidden_state
      const [, S, H] = h.dims as [number, number, number]
      const mean = matrix(1, H)
      for (let s = 0; s < S; s++) for (let k = 0; k < H; k++) mean.data[k]! += (h.data as Float32Array)[s * H + k]! / S
      expect(maxAbsDiff(l2Normalize(mean).y.data, inProcess.subarray(0, H))).toBeLessThan(1e-4)

      const changes = weightChanges(base(), out)
      const changed = [...changes].filter(([, d]) => d > 1e-6).map(([n]) => n)
      if (mode === "backbone") {
        // every layer's weights, and the embedding tables (lower learning rate) moved
        for (const name of ["embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight", "encoder.layer.1.output.dense.weight"]) expect(changed).toContain(name)
      } else {
        // LoRA on attention only: the merged attention projections changed, the feed-forward and embeddings did not
        expect(changed).toContain("encoder.layer.0.attention.self.query.weight")
        expect(changed).toContain("encoder.layer.1.attention.output.dense.weight")
        expect(changed).not.toContain("encoder.layer.0.intermediate.dense.weight")
        expect(changed).not.toContain("embeddings.word_embeddings.weight")
      }
      expect(JSON.parse(readFileSync(join(out, "embedflow-backbone.json"), "utf8"))).toMatchObject({ mode, steps: 30 })
    }, 120_000)
  }
})

// Consecutive unmasked batches, so this plugin's test needs no other plugin.
const batch = Stage.make({
  name: "fixture/batch",
  version: "1",
  description: "consecutive unmasked batches of the first triples",
  params: Schema.Struct({ batchSize: Schema.Number, count: Schema.Number }),
  inputs: { triples: Ports.Triples },
  outputs: { batches: Ports.MaskedBatches },
  run: (params, inputs) => {
    const triples = inputs.triples.slice(0, params.count)
    const batches: Array<Ports.MaskedBatch> = []
    for (let s = 0; s < triples.length; s += params.batchSize) {
      const slice = triples.slice(s, s + params.batchSize)
      const owned = slice.flatMap((t, i) => (t.negative === undefined ? [] : [{ text: t.negative, owner: i }]))
      const cols = slice.length + owned.length
      // mask the second anchor's own positive column's neighbour: a false negative, left out of its softmax
      const mask = new Uint8Array(slice.length * cols)
      if (slice.length > 2) mask[1 * cols + 2] = 1
      batches.push({
        index: batches.length, anchors: slice.map((t) => t.anchor), positives: slice.map((t) => t.positive), negatives: owned.map((n) => n.text),
        negativeOwners: owned.map((n) => n.owner), mask: Ports.packMask(mask), masked: slice.length > 2 ? 1 : 0
      })
    }
    return Effect.succeed({ batches })
  }
})
const registry = new Plugin.Registry([Plugin.make({ name: "fixture", version: "1", description: "test fixture", stages: [batch] }), data, plugin])

const runGraph = (train: Record<string, unknown>) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const graph = yield* Graph.validate(
        {
          name: "backbone",
          seed: 5,
          nodes: [
            { id: "snli", stage: "data/snli-triples", params: { split: "dev" } },
            { id: "dev", stage: "data/sts-b", params: { split: "dev" } },
            { id: "batches", stage: "fixture/batch", params: { batchSize: 16, count: 64 }, inputs: { triples: "snli.triples" } },
            { id: "train", stage: "contrastive-trainer/train", params: { encoder: base(), epochs: 2, temperature: 0.1, ...train }, inputs: { batches: "batches.batches", dev: "dev.pairs" } }
          ]
        },
        registry
      )
      return yield* Runner.run(graph, { layer: registry.layer() })
    }).pipe(Effect.provideService(ArtifactStore, makeFileSystem(tmp())), Effect.provide(layerModelHub()))
  )

interface Report {
  readonly train: string
  readonly objectiveBefore: number
  readonly objectiveAfter: number
  readonly bestEpoch: number
  readonly history: ReadonlyArray<{ readonly epoch: number; readonly dev?: number; readonly trainLoss: number }>
  readonly trainableParameters: number
}

describe("contrastive-trainer/train with train: backbone | lora (tiny-bert, SNLI dev slice, STS-B dev)", () => {
  for (const [name, params] of [
    // supervised runs without dropout, so the epochs' training losses compare with the (eval) epoch-0 objective
    ["backbone, supervised", { train: "backbone", backboneLr: 2e-3, dropout: 0 }],
    ["lora, supervised", { train: "lora", backboneLr: 1e-2, loraRank: 4, loraFeedForward: true, dropout: 0 }],
    ["backbone, unsupervised SimCSE", { train: "backbone", objective: "simcse", backboneLr: 2e-3, dropout: 0.1 }]
  ] as const) {
    it(`${name}: trains, keeps the best dev epoch, exports a folder the Encoder loads`, async () => {
      const result = await runGraph(params)
      const report = result.nodes.train!.outputs.report as Report
      const folder = (result.nodes.train!.outputs.model as { path: string }).path
      expect(report.train).toBe(params.train)
      expect(report.history.map((h) => h.epoch)).toEqual([0, 1, 2])
      const devs = report.history.map((h) => h.dev!)
      expect(devs.every(Number.isFinite)).toBe(true)
      // best epoch = the max dev score (ties: the first)
      expect(report.bestEpoch).toBe(devs.indexOf(Math.max(...devs)))
      // the training loss falls over the epochs (epoch 0 is the objective of the base model)
      const losses = report.history.map((h) => h.trainLoss)
      if (params.objective !== "simcse") expect(losses[2]!).toBeLessThan(losses[0]!)
      expect(losses[2]!).toBeLessThan(losses[1]!)
      if (report.bestEpoch > 0 && params.objective !== "simcse") expect(report.objectiveAfter).toBeLessThan(report.objectiveBefore)
      expect(report.trainableParameters).toBe(params.train === "lora" ? 2 * 4 * (4 * (32 + 32) + (32 + 64) + (64 + 32)) : loadOnnxModel(base()).model.allParams().reduce((s, p) => s + p.value.length, 0))
      expect(existsSync(join(folder, "onnx/model.onnx"))).toBe(true)
      const changed = [...weightChanges(base(), folder).values()].filter((d) => d > 1e-6).length
      if (report.bestEpoch > 0) expect(changed).toBeGreaterThan(0)
      else expect(changed).toBe(0)
    }, 180_000)
  }

  it("a transformer asked for tuneWordVectors with train: backbone gets a clear error", async () => {
    await expect(runGraph({ train: "backbone", tuneWordVectors: true })).rejects.toThrow(/tuneWordVectors applies to static/)
  }, 60_000)
})

// `PortType` is in scope so that declaration emit can name these stages' port types (TS2742).
import { PositiveInt, PositiveNumber, Ports, type PortType, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { spearman } from "@embedflow/eval"
import { columns, MaskedBatches, unpackMask } from "@embedflow/false-negative-masker"
import { EmbeddingCache, ModelHub } from "@embedflow/models"
import { l2Normalize, matrix } from "@embedflow/tensor"
import { Effect, Schema } from "effect"
import * as path from "node:path"
import { writeEncoderFolder } from "./EncoderFolder.js"
import { objective, train as trainHead, type TrainingBatch } from "./Trainer.js"

const fail = (message: string, cause?: unknown) => new StageError({ message, cause })

export const train = Stage.make({
  name: "contrastive-trainer/train",
  // 3: the epoch shuffle draws from @embedflow/tensor's Rng, so the trained head differs from 2.
  version: "3",
  description:
    "Supervised SimCSE InfoNCE with hard negatives and false-negative masks, training a head (linear or low-rank adapter) over a frozen encoder; AdamW + warmup, early stopping on STS dev Spearman",
  params: Schema.Struct({
    /** Frozen backbone folder (relative to the graph file). */
    encoder: Schema.String,
    /** ONNX file of the backbone folder, e.g. a static encoder's onnx/model_sif.onnx. */
    onnxFile: Schema.optionalKey(Schema.String),
    pooling: withDefault(Schema.Literals(["cls", "mean"]), "mean"),
    head: withDefault(Schema.Literals(["linear", "adapter"]), "linear"),
    /** Adapter rank (head: adapter). */
    rank: withDefault(PositiveInt, 8),
    temperature: withDefault(PositiveNumber, 0.05),
    lr: withDefault(PositiveNumber, 1e-3),
    weightDecay: withDefault(Schema.Number, 0.01),
    warmupRatio: withDefault(Schema.Number.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1 }))), 0.1),
    epochs: withDefault(PositiveInt, 3),
    /** Epochs without a better dev Spearman before stopping (with a dev input). */
    patience: withDefault(PositiveInt, 2)
  }),
  inputs: { batches: MaskedBatches, dev: Ports.ScoredPairs },
  optionalInputs: ["dev"],
  outputs: { model: Ports.Model, report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      if (inputs.batches.length === 0) return yield* fail("no training batches")
      const base = ctx.resolvePath(params.encoder)
      const onnxFile = params.onnxFile !== undefined ? { onnxFile: params.onnxFile } : {}
      const backbone = yield* (yield* ModelHub).encoder({ model: base, pooling: params.pooling, normalize: false, ...onnxFile })
      const dev = inputs.dev ?? []
      const texts = new Set<string>()
      for (const b of inputs.batches) for (const t of [...b.anchors, ...b.positives, ...b.negatives]) texts.add(t)
      for (const p of dev) texts.add(p.a).add(p.b)
      yield* ctx.log(`embedding ${texts.size} distinct texts once with the frozen backbone`)
      const cache = yield* EmbeddingCache.build(backbone, texts, { batchSize: 256, onProgress: (d, n) => ctx.progress(d, n, "texts") })
      const dim = cache.dim
      const batches: Array<TrainingBatch> = yield* Effect.try({
        try: () =>
          inputs.batches.map((b) => {
            const rows = b.anchors.length
            return { rows, cols: columns(b), x: EmbeddingCache.gather(cache, [...b.anchors, ...b.positives, ...b.negatives]), mask: b.masked > 0 ? unpackMask(b) : undefined }
          }),
        catch: (e) => fail((e as Error).message)
      })
      const devA = EmbeddingCache.gather(cache, dev.map((p) => p.a))
      const devB = EmbeddingCache.gather(cache, dev.map((p) => p.b))
      const gold = dev.map((p) => p.score)
      const evaluate =
        dev.length > 1
          ? (head: Parameters<NonNullable<Parameters<typeof trainHead>[2]["evaluate"]>>[0]) =>
              Effect.sync(() => {
                const a = l2Normalize(head.predict(matrix(dev.length, dim, devA))).y.data
                const b = l2Normalize(head.predict(matrix(dev.length, dim, devB))).y.data
                const cos = Float64Array.from({ length: dev.length }, (_, i) => {
                  let s = 0
                  for (let k = 0; k < dim; k++) s += a[i * dim + k]! * b[i * dim + k]!
                  return s
                })
                return spearman(cos, gold)
              })
          : undefined
      const started = performance.now()
      const result = yield* trainHead(batches, dim, {
        head: params.head === "linear" ? { kind: "linear" } : { kind: "adapter", rank: params.rank },
        temperature: params.temperature,
        lr: params.lr,
        weightDecay: params.weightDecay,
        warmupRatio: params.warmupRatio,
        epochs: params.epochs,
        seed: ctx.seed,
        patience: params.patience,
        evaluate,
        onStep: (step, total) => ctx.progress(step, total, "batches"),
        onEpoch: (r) =>
          Effect.gen(function* () {
            yield* ctx.metric("train_loss", r.trainLoss, r.epoch)
            if (r.dev !== undefined) yield* ctx.metric("dev_spearman", r.dev, r.epoch)
            yield* ctx.metric("lr", r.lr, r.epoch)
          })
      }).pipe(Effect.catchDefect((e) => Effect.fail(fail(e instanceof Error ? e.message : String(e), e))))
      const seconds = (performance.now() - started) / 1000
      const out = path.join(ctx.scratchDir, "model")
      yield* writeEncoderFolder(out, { baseModel: base, ...onnxFile, pooling: params.pooling, head: result.head }).pipe(
        Effect.mapError((e) => fail(`cannot write the model folder: ${e.message}`, e))
      )
      const objectiveBefore = result.history[0]!.trainLoss
      return {
        model: { path: out },
        report: {
          history: result.history,
          bestEpoch: result.bestEpoch,
          stoppedEarly: result.stoppedEarly,
          objectiveBefore,
          objectiveAfter: objective(result.head, batches, dim, params.temperature),
          devSpearman: result.history.find((h) => h.epoch === result.bestEpoch)?.dev,
          distinctTexts: cache.count,
          batches: batches.length,
          maskedBatches: batches.filter((b) => b.mask).length,
          trainSeconds: seconds
        }
      }
    })
})

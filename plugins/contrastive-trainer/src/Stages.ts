import { Params, Ports, PositiveInt, PositiveNumber, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { spearman } from "@embedflow/eval"
import { EmbeddingCache, ModelHub, readTokenBags } from "@embedflow/models"
import { gatherBags, type Head, l2Normalize, matrix, type TokenBags, type TokenDelta } from "@embedflow/tensor"
import { Effect, Schema } from "effect"
import * as path from "node:path"
import { trainBackbone } from "./BackboneTraining.js"
import { writeEncoderFolder } from "./EncoderFolder.js"
import { objective, train as trainHead, type TrainingBatch } from "./Trainer.js"

const fail = (message: string, cause?: unknown) => new StageError({ message, cause })

export const train = Stage.make({
  name: "contrastive-trainer/train",
  // 6: the model folder carries a model card, and `train: backbone | lora` (the head mode's weights are unchanged); 5: the loss is tensor's pairInfoNce (float32 cosine via matmul) instead of a float64 copy; 4: optional word-vector tuning (tuneWordVectors); 3: the epoch shuffle draws from @embedflow/tensor's Rng.
  version: "6",
  description:
    "Supervised SimCSE InfoNCE with hard negatives and false-negative masks, training a head (linear or low-rank adapter) over a frozen encoder, optionally with its word vectors (static encoders); AdamW + warmup, early stopping on STS dev Spearman",
  params: Schema.Struct({
    encoder: Params.folderPath("frozen backbone folder (relative to the graph file)"),
    onnxFile: Schema.optionalKey(Params.describe(Schema.String, "ONNX file of the backbone folder, e.g. a static encoder's onnx/model_sif.onnx")),
    pooling: withDefault(Schema.Literals(["cls", "mean"]), "mean"),
    head: withDefault(Schema.Literals(["linear", "adapter"]), "linear"),
    rank: Params.describe(withDefault(PositiveInt, 8), "adapter rank (head: adapter)"),
    temperature: withDefault(PositiveNumber, 0.05),
    lr: withDefault(PositiveNumber, 1e-3),
    weightDecay: withDefault(Schema.Number, 0.01),
    warmupRatio: withDefault(Schema.Number.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1 }))), 0.1),
    epochs: withDefault(PositiveInt, 3),
    patience: Params.describe(withDefault(PositiveInt, 2), "epochs without a better dev Spearman before stopping (with a dev input)"),
    tuneWordVectors: Params.describe(withDefault(Schema.Boolean, false), "also fine-tune the word vectors of the words in the training texts (a per-word delta), for bag-of-vectors backbones such as the static GloVe encoder (they declare a token_scale output)"),
    wordVectorLr: Schema.optionalKey(Params.describe(PositiveNumber, "peak learning rate of the word vectors (default: lr)")),
    train: Params.describe(withDefault(Schema.Literals(["head", "backbone", "lora"]), "head"), "what trains: a head over the frozen encoder (head), every transformer layer (backbone), or rank-r LoRA adapters on the attention projections, merged at export (lora)"),
    objective: Params.describe(withDefault(Schema.Literals(["supervised", "simcse"]), "supervised"), "backbone/lora: supervised triples (hard negatives, false-negative masks) or unsupervised SimCSE (each anchor twice through dropout)"),
    backboneLr: Schema.optionalKey(Params.describe(PositiveNumber, "backbone/lora: peak learning rate of the transformer layers or adapters (default 5e-5 backbone, 5e-4 lora)")),
    embeddingLrRatio: Params.describe(withDefault(PositiveNumber, 0.1), "backbone: learning rate of the embedding tables as a fraction of backboneLr"),
    loraRank: Params.describe(withDefault(PositiveInt, 8), "lora: adapter rank"),
    loraAlpha: Schema.optionalKey(Params.describe(PositiveNumber, "lora: scale numerator, s = alpha / rank (default alpha = rank)")),
    loraFeedForward: Params.describe(withDefault(Schema.Boolean, false), "lora: also adapt the feed-forward projections"),
    dropout: Params.describe(withDefault(Schema.Number.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 0.9 }))), 0.1), "backbone/lora: dropout in training (SimCSE's views come from it)"),
    maxLength: Params.describe(withDefault(PositiveInt, 128), "backbone/lora: tokens per sequence"),
    chunkSize: Params.describe(withDefault(PositiveInt, 32), "backbone/lora: sequences per GradCache chunk (memory, not the batch)"),
    normalize: Params.describe(withDefault(Schema.Boolean, true), "L2-normalise the exported model's output. false when a later step removes common components (SIF's post-processing is defined on the unnormalised vectors); models/embed normalises after it")
  }),
  inputs: { batches: Ports.MaskedBatches, dev: Ports.ScoredPairs },
  optionalInputs: ["dev"],
  outputs: { model: Ports.Model, report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      if (inputs.batches.length === 0) return yield* fail("no training batches")
      const base = ctx.resolvePath(params.encoder)
      if (params.train !== "head") {
        if (params.tuneWordVectors) return yield* fail(`tuneWordVectors applies to static (bag-of-vectors) encoders with train: head; with train: ${params.train} the transformer's own embeddings train (embeddingLrRatio)`)
        if (params.onnxFile !== undefined) return yield* fail(`onnxFile is not supported with train: ${params.train} (the tuned graph is the folder's onnx/model.onnx)`)
        const out = path.join(ctx.scratchDir, "model")
        const r = yield* trainBackbone(base, out, inputs.batches, inputs.dev ?? [], Ports.unpackMask, {
          mode: params.train,
          objective: params.objective,
          pooling: params.pooling,
          temperature: params.temperature,
          lr: params.backboneLr ?? (params.train === "lora" ? 5e-4 : 5e-5),
          embeddingLrRatio: params.embeddingLrRatio,
          weightDecay: params.weightDecay,
          warmupRatio: params.warmupRatio,
          epochs: params.epochs,
          patience: params.patience,
          loraRank: params.loraRank,
          loraAlpha: params.loraAlpha,
          loraFeedForward: params.loraFeedForward,
          dropout: params.dropout,
          maxLength: params.maxLength,
          chunkSize: params.chunkSize,
          seed: ctx.seed,
          onLog: (m) => ctx.log(m),
          onStep: (step, total) => ctx.progress(step, total, "batches"),
          onEpoch: (r) =>
            Effect.gen(function* () {
              yield* ctx.metric("train_loss", r.trainLoss, r.epoch)
              if (r.dev !== undefined) yield* ctx.metric("dev_spearman", r.dev, r.epoch)
              yield* ctx.metric("lr", r.lr, r.epoch)
            })
        })
        return {
          model: { path: out },
          report: {
            train: params.train,
            objective: params.objective,
            history: r.history,
            bestEpoch: r.bestEpoch,
            stoppedEarly: r.stoppedEarly,
            objectiveBefore: r.objectiveBefore,
            objectiveAfter: r.objectiveAfter,
            trainableParameters: r.trainableParameters,
            ...(inputs.dev !== undefined ? { devSpearman: r.history.find((h) => h.epoch === r.bestEpoch)?.dev ?? null } : {}),
            batches: inputs.batches.length,
            trainSeconds: r.seconds
          }
        }
      }
      const onnxFile = params.onnxFile !== undefined ? { onnxFile: params.onnxFile } : {}
      const backbone = yield* (yield* ModelHub).encoder({ model: base, pooling: params.pooling, normalize: false, ...onnxFile })
      const dev = inputs.dev ?? []
      const texts = new Set<string>()
      for (const b of inputs.batches) for (const t of [...b.anchors, ...b.positives, ...b.negatives]) texts.add(t)
      for (const p of dev) texts.add(p.a).add(p.b)
      yield* ctx.log(`embedding ${texts.size} distinct texts once with the frozen backbone`)
      const cache = yield* EmbeddingCache.build(backbone, texts, { batchSize: 256, onProgress: (d, n) => ctx.progress(d, n, "texts") })
      const dim = cache.dim
      const bagsOf = params.tuneWordVectors ? yield* tokenBagsOf(base, params.onnxFile, texts) : undefined
      const batches: Array<TrainingBatch> = yield* Effect.try({
        try: () =>
          inputs.batches.map((b) => {
            const rows = b.anchors.length
            const texts = [...b.anchors, ...b.positives, ...b.negatives]
            return { rows, cols: Ports.candidateColumns(b), x: EmbeddingCache.gather(cache, texts), mask: b.masked > 0 ? Ports.unpackMask(b) : undefined, bags: bagsOf?.(texts) }
          }),
        catch: (e) => fail((e as Error).message)
      })
      const devA = EmbeddingCache.gather(cache, dev.map((p) => p.a))
      const devB = EmbeddingCache.gather(cache, dev.map((p) => p.b))
      const devBagsA = bagsOf?.(dev.map((p) => p.a))
      const devBagsB = bagsOf?.(dev.map((p) => p.b))
      const gold = dev.map((p) => p.score)
      const embedDev = (head: Head, delta: TokenDelta | undefined, x: Float32Array, bags: TokenBags | undefined) => {
        const pooled = matrix(dev.length, dim, x)
        return l2Normalize(head.predict(delta && bags ? delta.predict(pooled, bags) : pooled)).y.data
      }
      const evaluate =
        dev.length > 1
          ? (head: Head, delta: TokenDelta | undefined) =>
              Effect.sync(() => {
                const a = embedDev(head, delta, devA, devBagsA)
                const b = embedDev(head, delta, devB, devBagsB)
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
        wordVectors: bagsOf ? { tokens: new Set(batches.flatMap((b) => Array.from(b.bags!.tokens))), lr: params.wordVectorLr ?? params.lr } : undefined,
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
      const devSpearman = result.history.find((h) => h.epoch === result.bestEpoch)?.dev
      const card = {
        body: `Trained by contrastive-trainer/train: InfoNCE (temperature ${params.temperature}) over ${inputs.batches.length} batches, ${params.head} head, best epoch ${result.bestEpoch}.`,
        ...(devSpearman !== undefined
          ? { evaluation: [{ task: { type: "STS" }, dataset: { type: "embedflow/dev-pairs", name: "the stage's dev pairs", split: "dev" }, metrics: [{ type: "cos_sim_spearman", value: 100 * devSpearman }] }] }
          : {})
      }
      yield* writeEncoderFolder(out, { baseModel: base, ...onnxFile, pooling: params.pooling, head: result.head, tokenDelta: result.tokenDelta, normalize: params.normalize, card }).pipe(
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
          objectiveAfter: objective(result.head, batches, dim, params.temperature, result.tokenDelta),
          ...(result.tokenDelta ? { wordVectors: { tuned: result.tokenDelta.tokens.length, changed: result.tokenDelta.changedTokens() } } : {}),
          // Without a dev input there is no dev score: the key is left out (a report is JSON).
          ...(inputs.dev !== undefined ? { devSpearman: result.history.find((h) => h.epoch === result.bestEpoch)?.dev ?? null } : {}),
          distinctTexts: cache.count,
          batches: batches.length,
          maskedBatches: batches.filter((b) => b.mask).length,
          trainSeconds: seconds
        }
      }
    })
})

/**
 * Token bags (ids + pooling coefficients) of every text, read once from the backbone; returns a
 * lookup giving the bags of any list of those texts, in order.
 */
const tokenBagsOf = (model: string, onnxFile: string | undefined, texts: ReadonlySet<string>) =>
  Effect.gen(function* () {
    const ctx = yield* StageContext
    const list = [...texts]
    yield* ctx.log(`reading the token bags of ${list.length} texts (word-vector tuning)`)
    const all = yield* Effect.scoped(readTokenBags({ model, onnxFile }, list)).pipe(Effect.mapError((e) => fail(e.message, e)))
    const rowOf = new Map(list.map((t, i) => [t, i]))
    return (subset: ReadonlyArray<string>): TokenBags => gatherBags(all, subset.map((t) => rowOf.get(t)!))
  })

import { existsSync } from "node:fs"
import * as path from "node:path"
import { Params, Ports, PositiveInt, PositiveNumber, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { BACKBONE_FILE, EmbeddingCache, HeadFolder, ModelHub } from "@embedflow/models"
import { Mlp, trainingTools } from "@embedflow/tensor"
import { Effect, Schema } from "effect"
import { trainCrossEncoder } from "./CrossEncoderTraining.js"
import * as RewardModel from "./RewardModel.js"
import * as Folder from "./RewardModelFolder.js"

const fail = (message: string) => (e: unknown) => new StageError({ message: `${message}: ${e instanceof Error ? e.message : String(e)}`, cause: e })

export const train = Stage.make({
  name: "reward-cross-encoder/train",
  // 2: the model reads query [SEP] gold [SEP] demonstration (LLM-R's reward model sees the label); train: backbone | lora
  version: "2",
  description: "LLM-R reward model on [CLS] query [SEP] gold [SEP] demo: a cross-encoder (every layer or LoRA, scalar head on [CLS]) or a scoring head over the frozen encoder's embedding; listwise CE (top-ranked vs sampled bottom)",
  params: Schema.Struct({
    encoder: Params.folderPath("encoder folder (relative to the graph file), used frozen"),
    pooling: withDefault(Schema.Literals(["cls", "mean"]), "cls"),
    maxLength: withDefault(PositiveInt, 128),
    hidden: withDefault(PositiveInt, 64),
    negatives: withDefault(PositiveInt, 7),
    negativeFrom: withDefault(Schema.Number.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1 }))), 0.5),
    epochs: withDefault(PositiveInt, 20),
    batchSize: withDefault(PositiveInt, 16),
    lr: withDefault(PositiveNumber, 1e-3),
    weightDecay: withDefault(Schema.Number, 0.01),
    embedBatchSize: withDefault(PositiveInt, 64),
    train: Params.describe(withDefault(Schema.Literals(["head", "backbone", "lora"]), "head"), "head: an MLP over the frozen encoder's pooled pair embedding; backbone: the real cross-encoder, every layer trained with a scalar head on [CLS]; lora: rank-loraRank adapters on the attention projections instead"),
    backboneLr: Schema.optionalKey(Params.describe(PositiveNumber, "backbone/lora: peak learning rate (default 3e-5 backbone, 5e-4 lora)")),
    warmupRatio: withDefault(Schema.Number.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1 }))), 0.1),
    loraRank: Params.describe(withDefault(PositiveInt, 8), "lora: adapter rank"),
    chunkSize: Params.describe(withDefault(PositiveInt, 32), "backbone/lora: sequences per GradCache chunk")
  }),
  inputs: { scored: Ports.ScoredCandidates },
  outputs: { model: Ports.Model, report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      if (params.train !== "head") {
        const dir = path.join(ctx.scratchDir, "model")
        const r = yield* trainCrossEncoder(ctx.resolvePath(params.encoder), dir, inputs.scored, {
          mode: params.train,
          negatives: params.negatives,
          negativeFrom: params.negativeFrom,
          epochs: params.epochs,
          batchSize: params.batchSize,
          lr: params.backboneLr ?? (params.train === "lora" ? 5e-4 : 3e-5),
          weightDecay: params.weightDecay,
          warmupRatio: params.warmupRatio,
          loraRank: params.loraRank,
          maxLength: params.maxLength,
          chunkSize: params.chunkSize,
          seed: ctx.seed
        }, (h) =>
          Effect.gen(function* () {
            yield* ctx.metric("loss", h.loss, h.epoch)
            yield* ctx.metric("accuracy", h.accuracy, h.epoch)
          })
        ).pipe(Effect.mapError(fail(`train: ${params.train}`)))
        return { model: { path: dir }, report: { queries: inputs.scored.length, train: params.train, trainableParameters: r.trainableParameters, history: r.history } }
      }
      const backbone: HeadFolder.Backbone = { model: ctx.resolvePath(params.encoder), pooling: params.pooling, normalize: true, maxLength: params.maxLength }
      const encoder = yield* (yield* ModelHub).encoder(HeadFolder.encoderConfig(backbone))
      const cache = yield* EmbeddingCache.build(encoder, RewardModel.allPairTexts(inputs.scored), {
        batchSize: params.embedBatchSize,
        onProgress: (done, total) => ctx.progress(done, total, "pairs embedded")
      })
      const head = Mlp.make({ inputDim: cache.dim, hiddenDim: params.hidden, outputDim: 1, activation: "gelu", seed: ctx.seed })
      const kit = trainingTools(head, ctx.seed + 1, { lr: params.lr, weightDecay: params.weightDecay })
      const history = RewardModel.train(head, cache, inputs.scored, params, kit)
      for (const h of history) {
        yield* ctx.metric("loss", h.loss, h.epoch)
        yield* ctx.metric("accuracy", h.accuracy, h.epoch)
      }
      const last = history[history.length - 1]
      if (last && !Number.isFinite(last.loss)) return yield* new StageError({ message: `training diverged (loss ${last.loss}); lower lr (now ${params.lr})` })
      const dir = path.join(ctx.scratchDir, "model")
      yield* Effect.tryPromise({
        try: () => Folder.write(dir, { type: "embedflow/reward-cross-encoder", backbone, head: { kind: "mlp", inputDim: cache.dim, hiddenDim: params.hidden } }, head),
        catch: fail("cannot write the reward model")
      })
      return { model: { path: dir }, report: { queries: inputs.scored.length, history } }
    })
})

export const score = Stage.make({
  name: "reward-cross-encoder/score",
  // 2: pairs carry the gold output; cross-encoder folders (train: backbone | lora) are scored through the Encoder
  version: "2",
  description: "rescores each query's candidates with a trained reward model, best first",
  params: Schema.Struct({ embedBatchSize: withDefault(PositiveInt, 64) }),
  inputs: { model: Ports.Model, candidates: Ports.ScoredCandidates },
  outputs: { scored: Ports.ScoredCandidates },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      if (existsSync(path.join(inputs.model.path, BACKBONE_FILE))) {
        // A cross-encoder folder: its graph's output [batch, 1] is the reward.
        const encoder = yield* (yield* ModelHub).encoder({ model: inputs.model.path, pooling: "cls", normalize: false })
        const pairs = RewardModel.allPairTexts(inputs.candidates)
        const rewards = new Float32Array(pairs.length)
        for (let s = 0; s < pairs.length; s += params.embedBatchSize) {
          rewards.set(yield* encoder.embed(pairs.slice(s, s + params.embedBatchSize)), s)
          yield* ctx.progress(Math.min(s + params.embedBatchSize, pairs.length), pairs.length, "pairs scored")
        }
        let at = 0
        return { scored: inputs.candidates.map((q) => ({ ...q, candidates: Ports.sortCandidates(q.candidates.map((c) => ({ ...c, score: rewards[at++]! }))) })) }
      }
      const { config, head } = yield* Effect.tryPromise({ try: () => Folder.read(inputs.model.path), catch: fail("cannot load the reward model") })
      const encoder = yield* (yield* ModelHub).encoder(HeadFolder.encoderConfig(config.backbone))
      const pairs = RewardModel.allPairTexts(inputs.candidates)
      const cache = yield* EmbeddingCache.build(encoder, pairs, {
        batchSize: params.embedBatchSize,
        onProgress: (done, total) => ctx.progress(done, total, "pairs embedded")
      })
      const rewards = RewardModel.score(head, cache, pairs)
      let at = 0
      const scored = inputs.candidates.map((q) => ({
        ...q,
        candidates: Ports.sortCandidates(q.candidates.map((c) => ({ ...c, score: rewards[at++]! })))
      }))
      return { scored }
    })
})

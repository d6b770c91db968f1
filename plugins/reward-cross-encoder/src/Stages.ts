import * as path from "node:path"
import { Params, Ports, PositiveInt, PositiveNumber, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { EmbeddingCache, HeadFolder, ModelHub } from "@embedflow/models"
import { Mlp, trainingTools } from "@embedflow/tensor"
import { Effect, Schema } from "effect"
import * as RewardModel from "./RewardModel.js"
import * as Folder from "./RewardModelFolder.js"

const fail = (message: string) => (e: unknown) => new StageError({ message: `${message}: ${e instanceof Error ? e.message : String(e)}`, cause: e })

export const train = Stage.make({
  name: "reward-cross-encoder/train",
  version: "1",
  description: "LLM-R reward model: a scoring head over a frozen encoder's [CLS] query [SEP] demo embedding, listwise CE (top-ranked vs sampled bottom)",
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
    embedBatchSize: withDefault(PositiveInt, 64)
  }),
  inputs: { scored: Ports.ScoredCandidates },
  outputs: { model: Ports.Model, report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
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
  version: "1",
  description: "rescores each query's candidates with a trained reward model, best first",
  params: Schema.Struct({ embedBatchSize: withDefault(PositiveInt, 64) }),
  inputs: { model: Ports.Model, candidates: Ports.ScoredCandidates },
  outputs: { scored: Ports.ScoredCandidates },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
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

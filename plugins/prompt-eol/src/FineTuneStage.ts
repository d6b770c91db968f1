import * as path from "node:path"
import { Params, Ports, PositiveInt, PositiveNumber, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { Effect, Schema } from "effect"
import { fineTunePromptEol } from "./FineTune.js"
import { promptEolTemplate } from "./PromptEol.js"

export const finetune = Stage.make({
  name: "prompt-eol/finetune",
  version: "1",
  description: "PromptEOL's fine-tuned setting: LoRA on the causal LM's attention, supervised contrastive loss over PromptEOL embeddings of NLI triples (hard negatives); merged folder out",
  params: Schema.Struct({
    model: Params.folderPath("causal LM folder (relative to the graph file) or hub id (EMBEDFLOW_ALLOW_REMOTE=1); GPT-2 / OPT with a plain fp32 onnx/model.onnx"),
    template: Params.describe(withDefault(Schema.String, promptEolTemplate), "must contain {text} once"),
    train: Params.describe(withDefault(Schema.Literals(["lora", "backbone"]), "lora"), "lora (the paper's setting) or every layer"),
    loraRank: withDefault(PositiveInt, 8),
    loraAlpha: Schema.optionalKey(PositiveNumber),
    loraFeedForward: withDefault(Schema.Boolean, false),
    lr: withDefault(PositiveNumber, 5e-4),
    weightDecay: withDefault(Schema.Number, 0),
    warmupRatio: withDefault(Schema.Number.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1 }))), 0.1),
    epochs: withDefault(PositiveInt, 1),
    batchSize: withDefault(PositiveInt, 32),
    temperature: withDefault(PositiveNumber, 0.05),
    maxLength: withDefault(PositiveInt, 128),
    chunkSize: Params.describe(withDefault(PositiveInt, 16), "sequences per GradCache chunk")
  }),
  inputs: { triples: Ports.Triples },
  outputs: { model: Ports.Model, report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      if ((params.template.match(/\{text\}/g) ?? []).length !== 1) return yield* new StageError({ message: `template must contain {text} exactly once, got ${JSON.stringify(params.template)}` })
      const dir = path.join(ctx.scratchDir, "model")
      const started = performance.now()
      const r = yield* fineTunePromptEol(ctx.resolvePath(params.model), dir, inputs.triples, {
        template: params.template, mode: params.train, loraRank: params.loraRank, loraAlpha: params.loraAlpha, loraFeedForward: params.loraFeedForward,
        lr: params.lr, weightDecay: params.weightDecay, warmupRatio: params.warmupRatio, epochs: params.epochs, batchSize: params.batchSize,
        temperature: params.temperature, maxLength: params.maxLength, chunkSize: params.chunkSize, seed: ctx.seed,
        onStep: (step, total, loss) => Effect.gen(function* () {
          yield* ctx.progress(step, total, "batches")
          yield* ctx.metric("train_loss", loss, step)
        })
      }).pipe(Effect.mapError((e) => (e instanceof StageError ? e : new StageError({ message: e.message, cause: e }))))
      return {
        model: { path: dir },
        report: { train: params.train, objectiveBefore: r.objectiveBefore, objectiveAfter: r.objectiveAfter, steps: r.losses.length, trainableParameters: r.trainableParameters, trainSeconds: (performance.now() - started) / 1000 }
      }
    })
})

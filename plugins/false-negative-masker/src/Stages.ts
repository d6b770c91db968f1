import { Params, Ports, PositiveInt, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { ModelHub } from "@embedflow/models"
import { Effect, Schema } from "effect"
import { maskBatches } from "./Masker.js"

export const mask = Stage.make({
  name: "false-negative-masker/mask",
  // 3: teacher cosines from tensor's cosineMatrix (float32) instead of a float64 copy; 2: the batch shuffle draws from @embedflow/tensor's Rng, so batches differ from 1.
  version: "3",
  description:
    "MultiCSR false-negative masking: seeded training batches; an in-batch candidate is masked for an anchor when the teacher's cosine is > threshold (mode threshold) or > the anchor's positive cosine - margin (mode gist, as GISTEmbed)",
  params: Schema.Struct({
    teacher: Params.folderPath("teacher encoder folder (relative to the graph file); unused with mode none"),
    teacherOnnxFile: Schema.optionalKey(Params.describe(Schema.String, "ONNX file of the teacher folder, e.g. a static encoder's onnx/model_sif.onnx")),
    pooling: withDefault(Schema.Literals(["cls", "mean"]), "mean"),
    mode: withDefault(Schema.Literals(["none", "threshold", "gist"]), "threshold"),
    threshold: withDefault(Schema.Number, 0.9),
    margin: withDefault(
      Params.describe(Schema.Number, "gist mode: mask a candidate whose teacher cosine is above the positive's minus this (negative: only candidates clearly closer than the positive)"),
      0.05
    ),
    batchSize: withDefault(PositiveInt, 64),
    dropLast: withDefault(Schema.Boolean, false),
    hardNegatives: Params.describe(withDefault(Schema.Boolean, true), "false drops each triple's hard negative (the \"without hard negatives\" ablation)")
  }),
  inputs: { triples: Ports.Triples },
  outputs: { batches: Ports.MaskedBatches, report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      if (inputs.triples.length === 0) return yield* new StageError({ message: "no triples to batch (did curation drop them all?)" })
      const hub = yield* ModelHub
      const encoder = params.mode === "none" ? undefined : yield* hub.encoder({
            model: ctx.resolvePath(params.teacher),
            pooling: params.pooling,
            normalize: true,
            ...(params.teacherOnnxFile !== undefined ? { onnxFile: params.teacherOnnxFile } : {})
          })
      let done = 0
      const triples = params.hardNegatives ? inputs.triples : inputs.triples.map(({ negative: _dropped, ...t }) => t)
      const result = yield* maskBatches(triples, {
        ...params,
        seed: ctx.seed,
        embed: (texts) => (encoder ? encoder.embed(texts) : Effect.succeed(new Float32Array(0))),
        onBatch: (batch, rate) =>
          Effect.gen(function* () {
            done += batch.anchors.length
            yield* ctx.metric("mask_rate", rate, batch.index)
            yield* ctx.progress(done, inputs.triples.length, "triples")
          })
      })
      yield* ctx.metric("mask_rate_total", result.report.maskRate)
      return { batches: result.batches, report: result.report }
    })
})

import { existsSync } from "node:fs"
import * as path from "node:path"
import { Params, Ports, Stage, StageContext, StageError, progress, type Vectors } from "@embedflow/core"
import { l2Normalize, matrix, PrincipalComponents } from "@embedflow/tensor"
import { Effect, Schema } from "effect"
import { ModelHub } from "./ModelHub.js"

/** A local folder (relative to the graph file) when one exists there, else the name as given (a hub id). */
const modelLocation = (model: string, resolvePath: (p: string) => string): string => {
  const local = resolvePath(model)
  return model.startsWith(".") || path.isAbsolute(model) || existsSync(local) ? local : model
}

/** SIF's common-component removal (then normalisation when asked), fitted on the vectors given. */
const removeComponents = (params: { readonly removeComponents: number; readonly normalize: boolean }, v: Vectors): Vectors => {
  if (params.removeComponents === 0 || v.count === 0) return v
  const removed = PrincipalComponents.fit(v.data, v.dim, { components: params.removeComponents }).apply(v.data)
  return { ...v, data: params.normalize ? l2Normalize(matrix(v.count, v.dim, removed)).y.data : removed }
}

/** The shards' vectors stacked in order. */
const concat = (parts: ReadonlyArray<Vectors>): Vectors => {
  const dim = parts[0]!.dim
  const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0))
  let at = 0
  for (const p of parts) {
    data.set(p.data, at)
    at += p.data.length
  }
  return { dim, count: data.length / dim, data, ids: parts.flatMap((p) => [...(p.ids ?? [])]) }
}

export const embed = Stage.make({
  name: "models/embed",
  version: "2",
  description:
    "Embeds texts with an encoder model folder (or hub id): pooling, normalisation, and optional removal of the top principal components fitted on these texts (SIF's common component)",
  params: Schema.Struct({
    model: Schema.optionalKey(
      Params.folderPath("model folder (relative to the graph file) or hub id; the `model` input overrides it")
    ),
    pooling: Params.withDefault(Schema.Literals(["cls", "mean", "last-token", "prompt-eol"]), "mean"),
    normalize: Params.withDefault(Schema.Boolean, true),
    onnxFile: Schema.optionalKey(Params.describe(Schema.String, "ONNX file inside the folder, e.g. onnx/model_sif.onnx")),
    maxLength: Params.withDefault(Params.PositiveInt, 512),
    removeComponents: Params.withDefault(
      Params.describe(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)), "principal components to remove, fitted on these texts (0 = none)"),
      0
    ),
    batchSize: Params.withDefault(Params.PositiveInt, 512)
  }),
  inputs: { texts: Ports.Texts, model: Ports.Model },
  optionalInputs: ["model"],
  outputs: { embeddings: Ports.Embeddings },
  // Each text's vector depends on that text alone (see test/ShardedEmbed.test.ts); only the removal of
  // principal components looks at all texts, so it runs on the merged vectors.
  shard: {
    over: "texts",
    merge: (params, parts) => ({ embeddings: removeComponents(params, concat(parts.map((p) => p.embeddings))) })
  },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const model = inputs.model?.path ?? (params.model !== undefined ? modelLocation(params.model, ctx.resolvePath) : undefined)
      if (model === undefined) return yield* new StageError({ message: "models/embed: give the `model` param or connect the `model` input" })
      const hub = yield* ModelHub
      // Normalising happens after component removal, which needs the unnormalised vectors.
      const encoder = yield* hub.encoder({
        model,
        pooling: params.pooling,
        normalize: params.normalize && params.removeComponents === 0,
        maxLength: params.maxLength,
        ...(params.onnxFile !== undefined ? { onnxFile: params.onnxFile } : {})
      })
      const n = inputs.texts.length
      const data = new Float32Array(n * encoder.dim)
      for (let start = 0; start < n; start += params.batchSize) {
        const batch = inputs.texts.slice(start, start + params.batchSize).map((t) => t.text)
        data.set(yield* encoder.embed(batch), start * encoder.dim)
        yield* progress(Math.min(start + params.batchSize, n), n, "texts")
      }
      const embeddings = { dim: encoder.dim, count: n, data, ids: inputs.texts.map((t) => t.id) }
      // A shard's vectors are the encoder's alone: the components are fitted on all texts in the merge.
      return { embeddings: ctx.shard === undefined ? removeComponents(params, embeddings) : embeddings }
    })
})

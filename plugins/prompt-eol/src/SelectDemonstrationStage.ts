import { Params, Ports, PositiveInt, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { encoderConfig, makeEncoder } from "@embedflow/models"
import { Effect, Schema } from "effect"
import { DemonstrationSchema, Demonstrations, rankDemonstrations } from "./DemonstrationSelection.js"
import { buildTemplate, DEFAULT_DEMONSTRATION_END, promptEolTemplate } from "./PromptEol.js"

const fail = (message: string, cause?: unknown) => new StageError({ message, cause })

export const selectDemonstration = Stage.make({
  name: "prompt-eol/select-demonstration",
  version: "1",
  description:
    "PromptEOL's demonstration choice: embeds STS-B dev under each candidate (sentence, word) demonstration alone and keeps the one(s) with the best dev Spearman",
  params: Schema.Struct({
    model: Params.folderPath("causal LM folder (relative to the graph file)"),
    candidates: Params.describe(
      Schema.Array(DemonstrationSchema).pipe(Schema.check(Schema.isMinLength(1))),
      "candidate demonstrations, e.g. STS-B train sentences with a one-word label, or dictionary (definition, word) pairs"
    ),
    keep: Params.describe(withDefault(PositiveInt, 1), "how many of the best candidates to output, best first (the paper keeps 1)"),
    limit: Schema.optionalKey(Params.describe(PositiveInt, "score on the first `limit` dev pairs only (faster; default all)")),
    template: Params.describe(withDefault(Schema.String, promptEolTemplate), "must contain {text} once"),
    demonstrationEnd: withDefault(Schema.String, DEFAULT_DEMONSTRATION_END),
    batchSize: withDefault(PositiveInt, 16),
    maxLength: withDefault(PositiveInt, 512)
  }),
  inputs: { dev: Ports.ScoredPairs },
  outputs: { demonstrations: Demonstrations, report: Ports.Report },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      const dev = params.limit === undefined ? inputs.dev : inputs.dev.slice(0, params.limit)
      if (dev.length < 2) return yield* fail(`prompt-eol/select-demonstration: ${dev.length} dev pair(s); need at least 2 for a Spearman correlation`)
      const model = ctx.resolvePath(params.model)
      const ranked = yield* rankDemonstrations(
        params.candidates,
        dev,
        (candidate) => (texts) =>
          Effect.scoped(
            Effect.gen(function* () {
              const promptTemplate = yield* buildTemplate({ template: params.template, demonstrations: [candidate], demonstrationEnd: params.demonstrationEnd })
              // One session per candidate, released once it is scored: memory stays that of one model.
              const encoder = yield* makeEncoder(encoderConfig({ model, pooling: "prompt-eol", promptTemplate, normalize: true, maxLength: params.maxLength }))
              const out = new Float32Array(texts.length * encoder.dim)
              for (let s = 0; s < texts.length; s += params.batchSize) {
                out.set(yield* encoder.embed(texts.slice(s, s + params.batchSize)), s * encoder.dim)
              }
              return out
            })
          ),
        (done, total, r) =>
          Effect.gen(function* () {
            yield* ctx.log(`candidate ${done}/${total} "${r.demonstration.word}": dev Spearman ${(r.spearman * 100).toFixed(2)}`)
            yield* ctx.progress(done, total, "candidates")
          })
      ).pipe(Effect.mapError((e) => fail(`prompt-eol/select-demonstration: ${e.message}`, e)))
      const demonstrations = ranked.slice(0, params.keep).map((r) => r.demonstration)
      yield* ctx.metric("best_dev_spearman", ranked[0]!.spearman)
      return {
        demonstrations,
        report: { task: "prompt-eol-demonstration-selection", devPairs: dev.length, selected: demonstrations, ranking: ranked }
      }
    })
})

import { Params, Ports, PositiveInt, Stage, StageContext, StageError, withDefault } from "@embedflow/core"
import { Effect, Schema } from "effect"
import { Demonstrations } from "./DemonstrationSelection.js"
import { DEFAULT_DEMONSTRATION_END, makePromptEolEncoder, promptEolTemplate } from "./PromptEol.js"

export const DemonstrationParam = Schema.Struct({ sentence: Schema.String, word: Schema.String })

export const embed = Stage.make({
  name: "prompt-eol/embed",
  // 2: demonstrations close with `".` and no newline (the official template); optional demonstrations input.
  version: "2",
  description: "PromptEOL sentence embeddings: a causal LM's last-token hidden state after the one-word template, optionally with in-context demonstrations",
  params: Schema.Struct({
    model: Params.folderPath("causal LM folder (relative to the graph file)"),
    template: Params.describe(withDefault(Schema.String, promptEolTemplate), "must contain {text} once"),
    demonstrations: Params.describe(withDefault(Schema.Array(DemonstrationParam), []), "prepended as filled templates closed by their word (PromptEOL's in-context variant); or connect the demonstrations input"),
    demonstrationEnd: withDefault(Schema.String, DEFAULT_DEMONSTRATION_END),
    batchSize: withDefault(PositiveInt, 16),
    normalize: withDefault(Schema.Boolean, true),
    maxLength: withDefault(PositiveInt, 512)
  }),
  inputs: { texts: Ports.Texts, demonstrations: Demonstrations },
  optionalInputs: ["demonstrations"],
  outputs: { embeddings: Ports.Embeddings },
  run: (params, inputs) =>
    Effect.gen(function* () {
      const ctx = yield* StageContext
      if (inputs.demonstrations !== undefined && params.demonstrations.length > 0) {
        return yield* new StageError({ message: "prompt-eol/embed: demonstrations come from the param or the input, not both" })
      }
      const demonstrations = inputs.demonstrations ?? params.demonstrations
      const encoder = yield* makePromptEolEncoder({ ...params, demonstrations, model: ctx.resolvePath(params.model) }).pipe(
        Effect.mapError((e) => new StageError({ message: e.message, cause: e }))
      )
      const texts = inputs.texts
      const data = new Float32Array(texts.length * encoder.dim)
      for (let s = 0; s < texts.length; s += params.batchSize) {
        const part = texts.slice(s, s + params.batchSize)
        const rows = yield* encoder.embed(part.map((t) => t.text)).pipe(Effect.mapError((e) => new StageError({ message: e.message, cause: e })))
        data.set(rows, s * encoder.dim)
        yield* ctx.progress(s + part.length, texts.length, "texts")
      }
      return { embeddings: { dim: encoder.dim, count: texts.length, data, ids: texts.map((t) => t.id) } }
    })
})

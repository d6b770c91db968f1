import { Effect, type Scope } from "effect"
import type { CrossEncoderOptions, CrossEncoderShape } from "../CrossEncoder.js"
import { ModelError } from "../ModelError.js"
import { planBatches } from "./batching.js"
import { planFeeds, rightPadded } from "./feeds.js"
import { resolveModelFolder } from "./folder.js"
import { maxPositions, readJson } from "./modelConfig.js"
import { openSession, runSession } from "./session.js"
import { loadTokenizer } from "./tokenizer.js"

export const makeCrossEncoder = (model: string, options: CrossEncoderOptions = {}): Effect.Effect<CrossEncoderShape, ModelError, Scope.Scope> =>
  Effect.gen(function* () {
    const folder = yield* resolveModelFolder(model, options)
    const hf = yield* readJson(model, folder.dir, "config.json")
    const tokenizer = yield* loadTokenizer(model, folder.dir)
    const session = yield* openSession(model, folder.dir, options)
    if (!session.outputNames.includes("logits")) {
      return yield* new ModelError({ message: `model "${model}": a sequence-classification graph with a logits output is expected (outputs: ${session.outputNames.join(", ")})`, model, file: "onnx/model.onnx" })
    }
    const plan = yield* planFeeds(model, session, hf)
    const shape = session.shapeOf("logits")
    const labels = typeof shape?.[1] === "number" ? shape[1] : Object.keys((hf.id2label as object | undefined) ?? { 0: "" }).length
    // One logit: it is the score. Two (not-relevant, relevant): the second. More: the caller must pick.
    const label = options.labelIndex ?? (labels <= 2 ? labels - 1 : undefined)
    if (label === undefined || label < 0 || label >= labels) {
      return yield* new ModelError({ message: `cross-encoder "${model}" has ${labels} labels; set labelIndex to one of 0..${labels - 1}`, model })
    }
    const maxLength = Math.min(options.maxLength ?? 512, maxPositions(hf) ?? Infinity)
    const maxTokens = options.maxTokensPerBatch ?? 16384
    let warned = false

    const score = (pairs: ReadonlyArray<readonly [string, string]>): Effect.Effect<Float32Array, ModelError> =>
      Effect.gen(function* () {
        const out = new Float32Array(pairs.length)
        if (pairs.length === 0) return out
        const encoded = pairs.map(([a, b]) => tokenizer.encode(a, b, maxLength))
        const truncated = encoded.filter((e) => e.fullLength > e.ids.length).length
        if (truncated > 0 && !warned) {
          warned = true
          yield* Effect.logWarning(`cross-encoder "${model}": ${truncated} of ${pairs.length} pairs exceed ${maxLength} tokens and were truncated (reported once per model)`)
        }
        for (const batch of planBatches(encoded.map((e) => e.ids.length), maxTokens)) {
          const padded = rightPadded(plan, batch.map((i) => encoded[i]), tokenizer.padId)
          const result = yield* runSession(model, session, padded.feeds)
          const logits = result.logits.data as Float32Array
          batch.forEach((i, r) => (out[i] = logits[r * labels + label]))
        }
        return out
      })

    return { model, score } satisfies CrossEncoderShape
  })

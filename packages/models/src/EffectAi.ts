import { Effect, Layer, Stream } from "effect"
import { AiError, EmbeddingModel, LanguageModel, type Prompt, type Response } from "effect/ai"
import { CausalLM, type CausalLMShape } from "./CausalLM.js"
import { Encoder, type EncoderShape } from "./Encoder.js"
import type { ModelError } from "./ModelError.js"

const toAiError = (method: string) => (e: ModelError) =>
  AiError.make({ module: "@embedflow/models", method, reason: new AiError.UnknownError({ description: e.message }) })

/** effect/ai's EmbeddingModel over an embedflow Encoder: one `embed` call per batch (single `embed`s are batched by effect). */
export const makeEmbeddingModel = (encoder: EncoderShape): Effect.Effect<EmbeddingModel.EmbeddingModel> =>
  EmbeddingModel.make({
    embedMany: ({ inputs }) =>
      encoder.embed(inputs).pipe(
        Effect.map((flat) => ({
          results: inputs.map((_, i) => Array.from(flat.subarray(i * encoder.dim, (i + 1) * encoder.dim))),
          usage: { inputTokens: undefined }
        })),
        Effect.mapError(toAiError("embedMany"))
      )
  })

/** Provides effect/ai's EmbeddingModel (and its Dimensions) from the Encoder in context. */
export const layerEmbeddingModel: Layer.Layer<EmbeddingModel.EmbeddingModel | EmbeddingModel.Dimensions, never, Encoder> = Layer.mergeAll(
  Layer.effect(
    EmbeddingModel.EmbeddingModel,
    Effect.gen(function* () {
      return yield* makeEmbeddingModel(yield* Encoder)
    })
  ),
  Layer.effect(
    EmbeddingModel.Dimensions,
    Effect.gen(function* () {
      return (yield* Encoder).dim
    })
  )
)

export interface LanguageModelOptions {
  /** Default 256. */
  readonly maxNewTokens?: number | undefined
  /** Default 0 (greedy). */
  readonly temperature?: number | undefined
  readonly topP?: number | undefined
  /** Default 0. */
  readonly seed?: number | undefined
  readonly stop?: ReadonlyArray<string> | undefined
}

/**
 * Flattens a conversation into one prompt: a lone user message is sent as is; otherwise
 * "System:/User:/Assistant:" turns end with "Assistant:". Only text parts are kept.
 */
export const promptText = (prompt: Prompt.Prompt): string => {
  const text = (m: Prompt.Message): string =>
    typeof m.content === "string"
      ? m.content
      : m.content.map((p) => (p.type === "text" ? (p as Prompt.TextPart).text : "")).join("")
  const messages = prompt.content
  if (messages.length === 1 && messages[0].role === "user") return text(messages[0])
  const label = { system: "System", user: "User", assistant: "Assistant", tool: "Tool" } as const
  return `${messages.map((m) => `${label[m.role]}: ${text(m)}`).join("\n")}\nAssistant:`
}

/**
 * effect/ai's LanguageModel over an embedflow CausalLM (text generation; tools and structured
 * output are not supported by a plain causal LM).
 */
export const makeLanguageModel = (lm: CausalLMShape, options: LanguageModelOptions = {}): Effect.Effect<LanguageModel.LanguageModel> => {
  const run = (prompt: Prompt.Prompt) => {
    const text = promptText(prompt)
    const maxNewTokens = options.maxNewTokens ?? 256
    return lm
      .generate([text], { maxNewTokens, temperature: options.temperature ?? 0, topP: options.topP, seed: options.seed ?? 0, stop: options.stop })
      .pipe(
        Effect.map(([out]) => {
          const generated = lm.vocabSize > 0 ? safeCount(lm, out) : undefined
          return {
            text: out,
            finish: {
              type: "finish" as const,
              reason: (generated !== undefined && generated >= maxNewTokens ? "length" : "stop") as Response.FinishReason,
              usage: { inputTokens: { total: lm.vocabSize > 0 ? safeCount(lm, text) : undefined }, outputTokens: { total: generated } }
            }
          }
        }),
        Effect.mapError(toAiError("generateText"))
      )
  }
  return LanguageModel.make({
    generateText: (o) => run(o.prompt).pipe(Effect.map(({ text, finish }): Array<Response.PartEncoded> => [{ type: "text", text }, finish])),
    streamText: (o) =>
      Stream.unwrap(
        run(o.prompt).pipe(
          Effect.map(({ text, finish }) =>
            Stream.fromIterable<Response.StreamPartEncoded>([
              { type: "text-start", id: "0" },
              { type: "text-delta", id: "0", delta: text },
              { type: "text-end", id: "0" },
              finish
            ])
          )
        )
      )
  })
}

const safeCount = (lm: CausalLMShape, text: string): number | undefined => {
  try {
    return lm.encode(text).length
  } catch {
    return undefined
  }
}

/** Provides effect/ai's LanguageModel from the CausalLM in context. */
export const layerLanguageModel = (options: LanguageModelOptions = {}): Layer.Layer<LanguageModel.LanguageModel, never, CausalLM> =>
  Layer.effect(
    LanguageModel.LanguageModel,
    Effect.gen(function* () {
      return yield* makeLanguageModel(yield* CausalLM, options)
    })
  )

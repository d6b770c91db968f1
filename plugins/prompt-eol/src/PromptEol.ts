/**
 * PromptEOL (Jiang et al. 2023, "Scaling Sentence Embeddings with Large Language Models"): a causal
 * LM reads `This sentence : "<text>" means in one word:"` and the hidden state of the last prompt
 * token is the sentence embedding. The in-context variant prepends demonstrations, each the same
 * template filled with a sentence and closed with its one-word answer:
 *
 *   This sentence : "A jockey riding a horse." means in one word:"Equestrian".
 *   This sentence : "<text>" means in one word:"
 */
import { type EncoderShape, type ModelError, ModelHub, promptEolTemplate } from "@embedflow/models"
import { Data, Effect } from "effect"

export { promptEolTemplate }

/** One in-context example: a sentence and the single word that sums it up. */
export interface Demonstration {
  readonly sentence: string
  readonly word: string
}

export interface PromptOptions {
  /** Must contain `{text}` exactly once; default PromptEOL's template. */
  readonly template?: string | undefined
  readonly demonstrations?: ReadonlyArray<Demonstration> | undefined
  /** Closes each demonstration after its word; default `".` (closing quote and period, no newline: the official template). */
  readonly demonstrationEnd?: string | undefined
}

export const DEFAULT_DEMONSTRATION_END = '".'

export class PromptEolError extends Data.TaggedError("PromptEolError")<{ readonly message: string }> {}

const PLACEHOLDER = "{text}"

const count = (s: string, sub: string): number => s.split(sub).length - 1

/**
 * The full template (demonstrations, then the template) with one `{text}` left for the sentence.
 * Fails when the template has no or several `{text}`, or a demonstration contains `{text}` or has
 * an empty word.
 */
export const buildTemplate = (options: PromptOptions = {}): Effect.Effect<string, PromptEolError> =>
  Effect.suspend(() => {
    const template = options.template ?? promptEolTemplate
    const end = options.demonstrationEnd ?? DEFAULT_DEMONSTRATION_END
    if (count(template, PLACEHOLDER) !== 1) {
      return Effect.fail(new PromptEolError({ message: `template must contain ${PLACEHOLDER} exactly once, got ${JSON.stringify(template)}` }))
    }
    if (end.includes(PLACEHOLDER)) {
      return Effect.fail(new PromptEolError({ message: `demonstrationEnd must not contain ${PLACEHOLDER}, got ${JSON.stringify(end)}` }))
    }
    const demos = options.demonstrations ?? []
    for (let i = 0; i < demos.length; i++) {
      const d = demos[i]!
      if (d.sentence.includes(PLACEHOLDER) || d.word.includes(PLACEHOLDER)) {
        return Effect.fail(new PromptEolError({ message: `demonstrations[${i}] contains ${PLACEHOLDER}; it would be taken for the sentence's slot` }))
      }
      if (d.word.trim() === "") {
        return Effect.fail(new PromptEolError({ message: `demonstrations[${i}] ("${d.sentence}") has an empty word; each demonstration needs its one-word answer` }))
      }
    }
    // A function replacer: `$` sequences in sentences stay literal.
    const prefix = demos.map((d) => template.replace(PLACEHOLDER, () => d.sentence) + d.word + end).join("")
    return Effect.succeed(prefix + template)
  })

/** The prompt the model reads for `text` under a full template from `buildTemplate`. */
export const renderPrompt = (fullTemplate: string, text: string): string => fullTemplate.replace(PLACEHOLDER, () => text)

export interface PromptEolEncoderConfig extends PromptOptions {
  /** Causal LM folder (ONNX with last_hidden_state, or logits over a MatMul LM head). */
  readonly model: string
  /** L2-normalize embeddings; default true. */
  readonly normalize?: boolean | undefined
  /** Prompts longer than this are cut inside the sentence, never in the template; default 512 (capped by the model's positions). */
  readonly maxLength?: number | undefined
  /** Texts per forward pass; default 16. */
  readonly batchSize?: number | undefined
  readonly device?: "cpu" | "cuda" | undefined
}

export interface PromptEolEncoder extends EncoderShape {
  /** The full template the model reads (demonstrations included), `{text}` marking the sentence. */
  readonly template: string
}

/**
 * A PromptEOL encoder from the run's ModelHub (the model is loaded once per hub). Embeddings are
 * row-major [texts x dim]; texts are run `batchSize` at a time.
 */
export const makePromptEolEncoder = (config: PromptEolEncoderConfig): Effect.Effect<PromptEolEncoder, PromptEolError | ModelError, ModelHub> =>
  Effect.gen(function* () {
    const batchSize = config.batchSize ?? 16
    if (!(Number.isSafeInteger(batchSize) && batchSize >= 1)) {
      return yield* new PromptEolError({ message: `batchSize must be a positive integer, got ${batchSize}` })
    }
    const template = yield* buildTemplate(config)
    const hub = yield* ModelHub
    const encoder = yield* hub.encoder({
      model: config.model,
      pooling: "prompt-eol",
      promptTemplate: template,
      normalize: config.normalize ?? true,
      ...(config.maxLength === undefined ? {} : { maxLength: config.maxLength }),
      ...(config.device === undefined ? {} : { device: config.device })
    })
    const dim = encoder.dim
    const embed = (texts: ReadonlyArray<string>): Effect.Effect<Float32Array, ModelError> =>
      Effect.gen(function* () {
        if (texts.length <= batchSize) return yield* encoder.embed(texts)
        const out = new Float32Array(texts.length * dim)
        for (let s = 0; s < texts.length; s += batchSize) out.set(yield* encoder.embed(texts.slice(s, s + batchSize)), s * dim)
        return out
      })
    return { config: encoder.config, dim, embed, template }
  })

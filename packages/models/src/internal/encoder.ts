import { Effect, type Scope } from "effect"
import type { EncoderConfig, EncoderShape } from "../Encoder.js"
import { ModelError } from "../ModelError.js"
import type { LoadOptions } from "../ModelSource.js"
import { planBatches } from "./batching.js"
import { planFeeds, rightPadded } from "./feeds.js"
import { resolveModelFolder } from "./folder.js"
import { hiddenSize, maxPositions, readJson } from "./modelConfig.js"
import { poolInto } from "./pooling.js"
import { openHiddenStateSession, runSession } from "./session.js"
import { type Encoded, loadTokenizer, type Tokenizer } from "./tokenizer.js"

export const PROMPT_EOL_TEMPLATE = 'This sentence : "{text}" means in one word:"'

export const makeEncoder = (config: EncoderConfig, load: LoadOptions = {}): Effect.Effect<EncoderShape, ModelError, Scope.Scope> =>
  Effect.gen(function* () {
    const model = config.model
    if (!(config.maxLength >= 1 && config.maxTokensPerBatch >= 1)) {
      return yield* new ModelError({ message: `encoder "${model}": maxLength and maxTokensPerBatch must be >= 1 (got ${config.maxLength}, ${config.maxTokensPerBatch})`, model })
    }
    const template = config.promptTemplate ?? PROMPT_EOL_TEMPLATE
    if (config.pooling === "prompt-eol" && !template.includes("{text}")) {
      return yield* new ModelError({ message: `encoder "${model}": promptTemplate must contain {text} (got ${JSON.stringify(template)})`, model })
    }
    const folder = yield* resolveModelFolder(model, { ...load, device: config.device ?? load.device })
    const hf = yield* readJson(model, folder.dir, "config.json")
    const tokenizer = yield* loadTokenizer(model, folder.dir)
    const options = { ...load, device: config.device ?? load.device }
    const { session, output } = yield* openHiddenStateSession(model, folder.dir, options)
    const plan = yield* planFeeds(model, session, hf)
    const shape = session.shapeOf(output)
    const last = shape?.[shape.length - 1]
    const dim = typeof last === "number" ? last : hiddenSize(hf)
    if (dim === undefined) {
      return yield* new ModelError({ message: `model "${model}": cannot tell the embedding size (config.json has no hidden_size/n_embd)`, model, file: "config.json" })
    }
    const maxLength = Math.min(config.maxLength, maxPositions(hf) ?? Infinity)
    let warned = false

    const encode = makeTextEncoder(config.pooling, template, tokenizer, maxLength)

    const embed = (texts: ReadonlyArray<string>): Effect.Effect<Float32Array, ModelError> =>
      Effect.gen(function* () {
        const out = new Float32Array(texts.length * dim)
        if (texts.length === 0) return out
        const encoded = texts.map(encode)
        const truncated = encoded.filter((e) => e.fullLength > e.ids.length).length
        if (truncated > 0 && !warned) {
          warned = true
          yield* Effect.logWarning(
            `encoder "${model}": ${truncated} of ${texts.length} texts exceed maxLength ${maxLength} tokens and were truncated (reported once per encoder)`
          )
        }
        const batches = planBatches(encoded.map((e) => e.ids.length), config.maxTokensPerBatch)
        for (const batch of batches) {
          const padded = rightPadded(plan, batch.map((i) => encoded[i]), tokenizer.padId)
          const result = yield* runSession(model, session, padded.feeds)
          const hidden = result[output]
          if (hidden === undefined || hidden.dims[2] !== dim) {
            return yield* new ModelError({ message: `model "${model}": output ${output} has shape [${hidden?.dims.join(", ")}], expected [batch, seq, ${dim}]`, model })
          }
          poolInto(config.pooling, hidden.data as Float32Array, batch.length, padded.seq, dim, padded.lengths, out, batch, config.normalize)
        }
        return out
      })

    return { config, dim, embed } satisfies EncoderShape
  })

/** Tokenizes one text for the pooling mode; PromptEOL truncates the text inside the template, never the template. */
const makeTextEncoder = (pooling: EncoderConfig["pooling"], template: string, tokenizer: Tokenizer, maxLength: number) => {
  if (pooling !== "prompt-eol") return (text: string): Encoded => tokenizer.encode(text, undefined, maxLength)
  const [pre, post] = splitTemplate(template)
  return (text: string): Encoded => {
    const full = tokenizer.encode(pre + text + post)
    if (full.ids.length <= maxLength) return full
    let content = tokenizer.encodePlain(text)
    let excess = full.ids.length - maxLength
    for (;;) {
      content = content.slice(0, Math.max(0, content.length - excess))
      const again = tokenizer.encode(pre + tokenizer.decode(content) + post)
      if (again.ids.length <= maxLength || content.length === 0) {
        return { ids: again.ids.slice(0, maxLength), types: again.types?.slice(0, maxLength), fullLength: full.ids.length }
      }
      excess = again.ids.length - maxLength
    }
  }
}

const splitTemplate = (template: string): [string, string] => {
  const at = template.indexOf("{text}")
  return [template.slice(0, at), template.slice(at + "{text}".length)]
}

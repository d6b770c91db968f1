import { l2Normalize, matrix } from "@embedflow/tensor"
import { Effect, type Scope } from "effect"
import type { EncoderConfig, EncoderShape } from "../Encoder.js"
import { ModelError } from "../ModelError.js"
import type { LoadOptions } from "../ModelSource.js"
import { planBatches } from "./batching.js"
import { planFeeds, rightPadded } from "./feeds.js"
import { onnxFileOf, resolveModelFolder } from "./folder.js"
import { type HfConfig, hiddenSize, maxPositions, readJson } from "./modelConfig.js"
import { poolInto } from "./pooling.js"
import { openHiddenStateSession, openSession, runSession } from "./session.js"
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
    // The config's device and ONNX file take precedence over the load options'.
    const options: LoadOptions = { ...load, device: config.device ?? load.device, onnxFile: config.onnxFile ?? load.onnxFile }
    const folder = yield* resolveModelFolder(model, options)
    const hf = yield* readJson(model, folder.dir, "config.json")
    const tokenizer = yield* loadTokenizer(model, folder.dir)
    const exported = exportedOutput(hf)
    if (exported !== undefined) return yield* makeExportedEncoder(config, folder.dir, options, hf, tokenizer, exported)
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

    const embedTokenized = (encoded: ReadonlyArray<Encoded>): Effect.Effect<Float32Array, ModelError> =>
      Effect.gen(function* () {
        const out = new Float32Array(encoded.length * dim)
        if (encoded.length === 0) return out
        const truncated = encoded.filter((e) => e.fullLength > e.ids.length).length
        if (truncated > 0 && !warned) {
          warned = true
          yield* Effect.logWarning(
            `encoder "${model}": ${truncated} of ${encoded.length} texts exceed maxLength ${maxLength} tokens and were truncated (reported once per encoder)`
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
    const embed = (texts: ReadonlyArray<string>) => embedTokenized(texts.map(encode))

    return { config, dim, embed, tokenize: encode, embedTokenized } satisfies EncoderShape
  })

/** config.json `embedflow` of a folder written by `exportEncoder`: the graph already pools (and normalises). */
const exportedOutput = (hf: HfConfig): { readonly output: string; readonly normalize: boolean } | undefined => {
  const e = hf.embedflow as { output?: unknown; normalize?: unknown } | undefined
  return typeof e?.output === "string" ? { output: e.output, normalize: e.normalize === true } : undefined
}

/**
 * An encoder over an exported folder: reads the pooled output [batch, dim] directly, so `pooling`
 * and `promptTemplate` do not apply (the graph's own pooling does); rows are L2-normalised here only
 * when `normalize` is asked and the graph does not already do it.
 */
const makeExportedEncoder = (
  config: EncoderConfig,
  dir: string,
  options: LoadOptions,
  hf: HfConfig,
  tokenizer: Tokenizer,
  exported: { readonly output: string; readonly normalize: boolean }
): Effect.Effect<EncoderShape, ModelError, Scope.Scope> =>
  Effect.gen(function* () {
    const model = config.model
    const session = yield* openSession(model, dir, options)
    const { output } = exported
    if (!session.outputNames.includes(output)) {
      return yield* new ModelError({
        message: `model "${model}": config.json says embedflow.output is "${output}" but the graph's outputs are ${session.outputNames.join(", ")}`,
        model,
        file: onnxFileOf(options)
      })
    }
    const plan = yield* planFeeds(model, session, hf)
    const last = session.shapeOf(output)?.at(-1)
    const declared = (hf.embedflow as { dim?: unknown }).dim
    const dim = typeof last === "number" ? last : typeof declared === "number" ? declared : undefined
    if (dim === undefined) {
      return yield* new ModelError({ message: `model "${model}": cannot tell the size of output ${output} (no fixed last dim, no embedflow.dim)`, model, file: "config.json" })
    }
    const maxLength = Math.min(config.maxLength, maxPositions(hf) ?? Infinity)
    const normalize = config.normalize && !exported.normalize
    let warned = false
    const tokenize = (text: string): Encoded => tokenizer.encode(text, undefined, maxLength)
    const embedTokenized = (encoded: ReadonlyArray<Encoded>): Effect.Effect<Float32Array, ModelError> =>
      Effect.gen(function* () {
        const out = new Float32Array(encoded.length * dim)
        if (encoded.length === 0) return out
        const truncated = encoded.filter((e) => e.fullLength > e.ids.length).length
        if (truncated > 0 && !warned) {
          warned = true
          yield* Effect.logWarning(`encoder "${model}": ${truncated} of ${encoded.length} texts exceed maxLength ${maxLength} tokens and were truncated (reported once per encoder)`)
        }
        for (const batch of planBatches(encoded.map((e) => e.ids.length), config.maxTokensPerBatch)) {
          const padded = rightPadded(plan, batch.map((i) => encoded[i]), tokenizer.padId)
          const result = yield* runSession(model, session, padded.feeds)
          const pooled = result[output]
          if (pooled === undefined || pooled.dims.length !== 2 || pooled.dims[1] !== dim) {
            return yield* new ModelError({ message: `model "${model}": output ${output} has shape [${pooled?.dims.join(", ")}], expected [batch, ${dim}]`, model })
          }
          const data = (pooled.data as Float32Array).subarray(0, batch.length * dim)
          const rows = normalize ? l2Normalize(matrix(batch.length, dim, data)).y.data : data
          for (let r = 0; r < batch.length; r++) out.set(rows.subarray(r * dim, (r + 1) * dim), batch[r]! * dim)
        }
        return out
      })
    const embed = (texts: ReadonlyArray<string>) => embedTokenized(texts.map(tokenize))
    return { config, dim, embed, tokenize, embedTokenized } satisfies EncoderShape
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

/**
 * Token bags of texts under a bag-of-vectors encoder: for each text, its token ids and their
 * mean-pooling coefficients c_t, so that the encoder's mean-pooled output is Σ_t c_t·E[id_t].
 * This is what token-level training needs (packages/tensor `TokenDelta`): the effect of a change
 * to a word vector on every pooled text, without running the encoder again.
 *
 * The backbone must declare the contract with a `token_scale` output [batch, seq]:
 * last_hidden_state[b, t] = token_scale[b, t]·E[input_ids[b, t]] (the static encoders built by
 * tools/static-encoder do; a transformer cannot). Then c_t = token_scale_t / (attended tokens).
 */
import type { TokenBags } from "@embedflow/tensor"
import { Effect, type Scope } from "effect"
import { planBatches } from "./internal/batching.js"
import { TOKEN_SCALE } from "./internal/exportGraph.js"
import { planFeeds, rightPadded } from "./internal/feeds.js"
import { onnxFileOf, resolveModelFolder } from "./internal/folder.js"
import { maxPositions, readJson } from "./internal/modelConfig.js"
import { openSession, runSession } from "./internal/session.js"
import { loadTokenizer } from "./internal/tokenizer.js"
import { ModelError } from "./ModelError.js"
import type { LoadOptions } from "./ModelSource.js"

export interface TokenBagsOptions {
  /** The backbone folder (or hub id with remote loading on). */
  readonly model: string
  /** Its ONNX file, e.g. a static encoder's "onnx/model_sif.onnx" (default "onnx/model.onnx"). */
  readonly onnxFile?: string | undefined
  /** Tokens per text at most (default 512, and never more than the model's positions). */
  readonly maxLength?: number | undefined
  /** Tokens per onnxruntime call (default 16384). */
  readonly maxTokensPerBatch?: number | undefined
}

/**
 * The bags of `texts`, row i for texts[i]. Tokens whose scale is 0 (unknown words, padding) are
 * left out: they contribute nothing to the pooled vector.
 */
export const readTokenBags = (
  options: TokenBagsOptions,
  texts: ReadonlyArray<string>,
  load: LoadOptions = {}
): Effect.Effect<TokenBags, ModelError, Scope.Scope> =>
  Effect.gen(function* () {
    const model = options.model
    const loadOptions: LoadOptions = { ...load, onnxFile: options.onnxFile ?? load.onnxFile }
    const folder = yield* resolveModelFolder(model, loadOptions)
    const hf = yield* readJson(model, folder.dir, "config.json")
    const tokenizer = yield* loadTokenizer(model, folder.dir)
    const session = yield* openSession(model, folder.dir, loadOptions)
    if (!session.outputNames.includes(TOKEN_SCALE)) {
      return yield* new ModelError({
        message: `model "${model}": token bags need a bag-of-vectors encoder with a ${TOKEN_SCALE} output (hidden = scale · E[id]); ${onnxFileOf(loadOptions)} outputs ${session.outputNames.join(", ")}`,
        model,
        file: onnxFileOf(loadOptions)
      })
    }
    const plan = yield* planFeeds(model, session, hf)
    const maxLength = Math.min(options.maxLength ?? 512, maxPositions(hf) ?? Infinity)
    const encoded = texts.map((t) => tokenizer.encode(t, undefined, maxLength))
    const perText: Array<{ tokens: Array<number>; coefficients: Array<number> }> = texts.map(() => ({ tokens: [], coefficients: [] }))
    for (const batch of planBatches(encoded.map((e) => e.ids.length), options.maxTokensPerBatch ?? 16384)) {
      const padded = rightPadded(plan, batch.map((i) => encoded[i]), tokenizer.padId)
      const result = yield* runSession(model, session, padded.feeds)
      const scale = result[TOKEN_SCALE]!.data as Float32Array
      batch.forEach((text, r) => {
        const ids = encoded[text]!.ids
        const bag = perText[text]!
        for (let t = 0; t < ids.length; t++) {
          const s = scale[r * padded.seq + t]!
          if (s !== 0) {
            bag.tokens.push(ids[t]!)
            bag.coefficients.push(s / ids.length)
          }
        }
      })
    }
    const offsets = new Int32Array(texts.length + 1)
    perText.forEach((b, i) => (offsets[i + 1] = offsets[i]! + b.tokens.length))
    return {
      offsets,
      tokens: Int32Array.from(perText.flatMap((b) => b.tokens)),
      coefficients: Float32Array.from(perText.flatMap((b) => b.coefficients))
    }
  })

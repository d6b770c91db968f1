import { deriveSeed } from "@embedflow/core"
import type { CausalLMShape, ModelError } from "@embedflow/models"
import { Rng } from "@embedflow/tensor"
import { Effect } from "effect"
import { combineLogits } from "./Logits.js"
import { makeSampler, type SamplingOptions } from "./Sampling.js"

/** One sequence to decode: its instruction prompt and the noisy prompt it is contrasted with. */
export interface DecodeJob {
  readonly prompt: string
  readonly noisyPrompt: string
  /** Seed of this sequence's sampling stream (unused when greedy). */
  readonly seed: number
}

export interface DecodeOptions extends SamplingOptions {
  /** Weight of the noisy logits: logits = l(prompt) - w * l(noisyPrompt). 0 is plain decoding. */
  readonly w: number
  readonly maxNewTokens: number
  /** Generation ends before the first occurrence of any of these (which is not part of the text). */
  readonly stop: ReadonlyArray<string>
  /** Sequences decoded together in one decoder (each takes two rows when w != 0). */
  readonly batchSize: number
  readonly onProgress?: ((done: number, total: number) => Effect.Effect<void>) | undefined
}

export type FinishReason = "stop" | "eos" | "length"

export interface Generation {
  readonly text: string
  /** The generated token ids (without EOS). */
  readonly ids: ReadonlyArray<number>
  /** Tokens generated, including the one that completed a stop string. */
  readonly tokens: number
  readonly finish: FinishReason
}

/**
 * Decodes every job with instructive decoding. Per batch, ONE decoder holds the instruction rows
 * and the noisy rows ([p_0..p_{n-1}, q_0..q_{n-1}]); both rows of a sequence receive the token
 * picked from the combined logits, so the two KV caches advance in lock-step. With w = 0 the noisy
 * rows cannot change any token and are not run at all.
 */
export const decodeContrastive = (
  lm: CausalLMShape,
  jobs: ReadonlyArray<DecodeJob>,
  options: DecodeOptions
): Effect.Effect<Array<Generation>, ModelError> =>
  Effect.gen(function* () {
    if (!Number.isFinite(options.w)) return yield* Effect.die(new RangeError(`w must be a finite number, got ${options.w}`))
    if (!(options.maxNewTokens >= 1)) return yield* Effect.die(new RangeError(`maxNewTokens must be >= 1, got ${options.maxNewTokens}`))
    const out: Array<Generation> = []
    for (let start = 0; start < jobs.length; start += options.batchSize) {
      const batch = jobs.slice(start, start + options.batchSize)
      out.push(...(yield* Effect.scoped(decodeBatch(lm, batch, options))))
      if (options.onProgress) yield* options.onProgress(out.length, jobs.length)
    }
    return out
  })

const decodeBatch = (lm: CausalLMShape, jobs: ReadonlyArray<DecodeJob>, options: DecodeOptions) =>
  Effect.gen(function* () {
    const n = jobs.length
    const contrast = options.w !== 0
    const prompts = contrast ? [...jobs.map((j) => j.prompt), ...jobs.map((j) => j.noisyPrompt)] : jobs.map((j) => j.prompt)
    const decoder = yield* lm.decoder(prompts)
    const vocab = decoder.vocabSize
    const combined = new Float32Array(vocab)
    const sample = makeSampler(vocab, options)
    const rngs = jobs.map((j) => new Rng(j.seed))
    const ids: Array<Array<number>> = jobs.map(() => [])
    const texts: Array<string> = jobs.map(() => "")
    const finish: Array<FinishReason | undefined> = jobs.map(() => undefined)
    const filler = lm.eosTokenId ?? 0
    const next = new Array<number>(prompts.length).fill(filler)
    const maxStop = options.stop.reduce((m, s) => Math.max(m, s.length), 0)
    let open = n

    for (let step = 0; step < options.maxNewTokens && open > 0; step++) {
      if (step > 0) yield* decoder.step(next)
      const logits = decoder.logits()
      for (let i = 0; i < n; i++) {
        if (finish[i] !== undefined) continue
        combineLogits(logits, i * vocab, logits, (contrast ? n + i : i) * vocab, contrast ? options.w : 0, vocab, combined)
        const token = sample(combined, rngs[i]!)
        next[i] = token
        if (contrast) next[n + i] = token
        if (token === lm.eosTokenId) {
          finish[i] = "eos"
          open--
          continue
        }
        ids[i]!.push(token)
        const previous = texts[i]!.length
        const text = lm.decode(ids[i]!)
        // A stop string can only end in the new text, so only the tail needs searching.
        const from = Math.max(0, Math.min(previous, text.length) - maxStop + 1)
        let cut = -1
        for (const s of options.stop) {
          const at = text.indexOf(s, from)
          if (at >= 0 && (cut < 0 || at < cut)) cut = at
        }
        if (cut >= 0) {
          texts[i] = text.slice(0, cut)
          finish[i] = "stop"
          open--
        } else {
          texts[i] = text
          if (ids[i]!.length >= options.maxNewTokens) {
            finish[i] = "length"
            open--
          }
        }
      }
      // Finished rows keep receiving a filler token: the decoder advances every row together.
      for (let i = 0; i < n; i++) {
        if (finish[i] !== undefined) {
          next[i] = filler
          if (contrast) next[n + i] = filler
        }
      }
    }
    return jobs.map((_, i): Generation => ({ text: texts[i]!, ids: ids[i]!, tokens: ids[i]!.length + (finish[i] === "eos" ? 1 : 0), finish: finish[i] ?? "length" }))
  })

/** The seed of one generated sequence: the stage seed, the premise id and the stream name. */
export const sequenceSeed = (seed: number, premiseId: string, stream: "entailment" | "contradiction"): number =>
  deriveSeed(seed, `${premiseId}/${stream}`)

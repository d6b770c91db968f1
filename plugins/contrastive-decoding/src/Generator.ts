import type { Ports } from "@embedflow/core"
import type { CausalLMShape, ModelError } from "@embedflow/models"
import { Effect } from "effect"
import { type DecodeOptions, decodeContrastive, type Generation, sequenceSeed } from "./ContrastiveDecoding.js"
import { type Instructions, render } from "./Instructions.js"

export interface GenerateOptions extends Omit<DecodeOptions, "onProgress"> {
  readonly instructions: Instructions
  readonly seed: number
  readonly onProgress?: ((donePremises: number, total: number) => Effect.Effect<void>) | undefined
}

export interface GeneratedPair {
  readonly premise: Ports.TextRecord
  readonly entailment: Generation
  readonly contradiction: Generation
}

/**
 * For each premise, an entailment and a contradiction. Both streams of a premise go into the same
 * decoder batch (entailment rows then contradiction rows), so a batch of B premises is one decoder
 * of 2B rows, or 4B with their noisy rows.
 */
export const generatePairs = (
  lm: CausalLMShape,
  premises: ReadonlyArray<Ports.TextRecord>,
  options: GenerateOptions
): Effect.Effect<Array<GeneratedPair>, ModelError> =>
  Effect.gen(function* () {
    const { instructions: t, seed } = options
    const jobs = premises.flatMap((p) => [
      { prompt: render(t.entailment, p.text), noisyPrompt: render(t.noisyEntailment, p.text), seed: sequenceSeed(seed, p.id, "entailment") },
      { prompt: render(t.contradiction, p.text), noisyPrompt: render(t.noisyContradiction, p.text), seed: sequenceSeed(seed, p.id, "contradiction") }
    ])
    const generations = yield* decodeContrastive(lm, jobs, {
      ...options,
      // Even batch sizes keep both streams of a premise in one decoder.
      batchSize: 2 * options.batchSize,
      onProgress: options.onProgress ? (done, total) => options.onProgress!(done / 2, total / 2) : undefined
    })
    return premises.map((premise, i) => ({ premise, entailment: generations[2 * i]!, contradiction: generations[2 * i + 1]! }))
  })

/** A generated pair as a MultiCSR triple; the meta says how it was made. */
export const toTriple = (pair: GeneratedPair, options: { readonly w: number; readonly seed: number }): Ports.Triple => ({
  anchor: pair.premise.text,
  positive: pair.entailment.text.trim(),
  negative: pair.contradiction.text.trim(),
  meta: {
    premiseId: pair.premise.id,
    w: options.w,
    seed: options.seed,
    tokens: { entailment: pair.entailment.tokens, contradiction: pair.contradiction.tokens },
    finish: { entailment: pair.entailment.finish, contradiction: pair.contradiction.finish }
  }
})

import type { Ports } from "@embedflow/core"
import type { CausalLMShape, ModelError } from "@embedflow/models"
import { Effect } from "effect"
import { digitTokenIds, expectedRating } from "./DigitScore.js"
import { render } from "./RatingPrompt.js"

export interface RateOptions {
  readonly template: string
  readonly digitPrefix: string
  /** Prompts per forward pass. */
  readonly batchSize: number
  readonly onProgress?: ((done: number, total: number) => Effect.Effect<void>) | undefined
}

/**
 * The LLM's 0-5 similarity rating of each pair: one forward pass over the rating prompts (the
 * decoder's first logits are the next-token distribution after each prompt), no sampling.
 */
export const ratePairs = (
  lm: CausalLMShape,
  pairs: ReadonlyArray<readonly [string, string]>,
  options: RateOptions
): Effect.Effect<Float64Array, ModelError> =>
  Effect.gen(function* () {
    const digits = yield* Effect.try({ try: () => digitTokenIds(lm.encode, options.digitPrefix), catch: (e) => e as Error }).pipe(Effect.orDie)
    const scores = new Float64Array(pairs.length)
    for (let start = 0; start < pairs.length; start += options.batchSize) {
      const batch = pairs.slice(start, start + options.batchSize)
      const prompts = batch.map(([a, b]) => render(options.template, a, b))
      yield* Effect.scoped(
        Effect.gen(function* () {
          const decoder = yield* lm.decoder(prompts)
          const logits = decoder.logits()
          for (let i = 0; i < batch.length; i++) scores[start + i] = expectedRating(logits, i * decoder.vocabSize, digits)
        })
      )
      if (options.onProgress) yield* options.onProgress(Math.min(start + options.batchSize, pairs.length), pairs.length)
    }
    return scores
  })

export interface Thresholds {
  /** Entailments rated below this are dropped (with their triple: no positive, nothing to train on). */
  readonly hi: number
  /** Contradictions rated above this fail: the triple is dropped, or (without `requireNegative`) kept without its hard negative. */
  readonly lo: number
  /** Drop the whole triple when its contradiction fails or is missing (the stage's default, as MultiCSR filters triples). */
  readonly requireNegative: boolean
}

export interface CurationReport {
  readonly triples: number
  readonly kept: number
  readonly dropped: number
  readonly entailments: { readonly kept: number; readonly dropped: number; readonly meanScore: number }
  readonly contradictions: { readonly kept: number; readonly dropped: number; readonly meanScore: number }
  readonly thresholds: { readonly hi: number; readonly lo: number }
}

/**
 * Applies the thresholds to rated triples. `entailmentScores[i]` rates (anchor, positive) of triple
 * i; `contradictionScores[i]` rates (anchor, negative), NaN when the triple has no negative. Scores
 * go into each kept triple's meta.
 */
export const curate = (
  triples: ReadonlyArray<Ports.Triple>,
  entailmentScores: ArrayLike<number>,
  contradictionScores: ArrayLike<number>,
  thresholds: Thresholds
): { readonly triples: Array<Ports.Triple>; readonly report: CurationReport } => {
  if (entailmentScores.length !== triples.length || contradictionScores.length !== triples.length) {
    throw new RangeError(`curate: ${triples.length} triples but ${entailmentScores.length}/${contradictionScores.length} scores`)
  }
  const kept: Array<Ports.Triple> = []
  let eKept = 0
  let cKept = 0
  let cTotal = 0
  let eSum = 0
  let cSum = 0
  for (let i = 0; i < triples.length; i++) {
    const t = triples[i]!
    const es = entailmentScores[i]!
    const cs = contradictionScores[i]!
    eSum += es
    const entailmentOk = es >= thresholds.hi
    if (entailmentOk) eKept++
    const hasNegative = t.negative !== undefined
    let negativeOk = false
    if (hasNegative) {
      cTotal++
      cSum += cs
      negativeOk = cs <= thresholds.lo
      if (negativeOk) cKept++
    }
    if (!entailmentOk || (thresholds.requireNegative && !negativeOk)) continue
    const { negative, ...rest } = t
    const curation = hasNegative ? { entailmentScore: es, contradictionScore: cs } : { entailmentScore: es }
    const meta = { ...t.meta, curation }
    kept.push(negativeOk ? { ...rest, negative: negative!, meta } : { ...rest, meta })
  }
  return {
    triples: kept,
    report: {
      triples: triples.length,
      kept: kept.length,
      dropped: triples.length - kept.length,
      entailments: { kept: eKept, dropped: triples.length - eKept, meanScore: triples.length ? eSum / triples.length : 0 },
      contradictions: { kept: cKept, dropped: cTotal - cKept, meanScore: cTotal ? cSum / cTotal : 0 },
      thresholds: { hi: thresholds.hi, lo: thresholds.lo }
    }
  }
}

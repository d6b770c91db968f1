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
 * decoder's first logits are the next-token distribution after each prompt), no sampling. A batch
 * only holds prompts of one token length: the decoder left-pads shorter prompts, and padding changes
 * the logits in their last bits, so a pair's rating would depend on which pairs share its batch (and
 * a sharded run would differ from a whole one).
 */
export const ratePairs = (
  lm: CausalLMShape,
  pairs: ReadonlyArray<readonly [string, string]>,
  options: RateOptions
): Effect.Effect<Float64Array, ModelError> =>
  Effect.gen(function* () {
    const digits = yield* Effect.try({ try: () => digitTokenIds(lm.encode, options.digitPrefix), catch: (e) => e as Error }).pipe(Effect.orDie)
    const scores = new Float64Array(pairs.length)
    const prompts = pairs.map(([a, b]) => render(options.template, a, b))
    let done = 0
    for (const batch of sameLengthBatches(prompts.map((p) => lm.encode(p).length), options.batchSize)) {
      yield* Effect.scoped(
        Effect.gen(function* () {
          const decoder = yield* lm.decoder(batch.map((i) => prompts[i]!))
          const logits = decoder.logits()
          batch.forEach((pair, row) => (scores[pair] = expectedRating(logits, row * decoder.vocabSize, digits)))
        })
      )
      done += batch.length
      if (options.onProgress) yield* options.onProgress(done, pairs.length)
    }
    return scores
  })

/** Indices grouped by length (shortest first, then in order), at most `size` to a batch. */
export const sameLengthBatches = (lengths: ReadonlyArray<number>, size: number): Array<Array<number>> => {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b)
  const batches: Array<Array<number>> = []
  for (const i of order) {
    const last = batches.at(-1)
    if (last && last.length < size && lengths[last[0]!] === lengths[i]) last.push(i)
    else batches.push([i])
  }
  return batches
}

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
  for (let i = 0; i < triples.length; i++) {
    const t = triples[i]!
    const es = entailmentScores[i]!
    const cs = contradictionScores[i]!
    const entailmentOk = es >= thresholds.hi
    const hasNegative = t.negative !== undefined
    const negativeOk = hasNegative && cs <= thresholds.lo
    if (!entailmentOk || (thresholds.requireNegative && !negativeOk)) continue
    const { negative, ...rest } = t
    const curation = hasNegative ? { entailmentScore: es, contradictionScore: cs } : { entailmentScore: es }
    const meta = { ...t.meta, curation }
    kept.push(negativeOk ? { ...rest, negative: negative!, meta } : { ...rest, meta })
  }
  return { triples: kept, report: reportOf(entailmentScores, contradictionScores, thresholds, kept.length) }
}

/**
 * The curation report from the ratings of all triples (a contradiction score is NaN where the triple
 * has no negative) and how many were kept. Sums run in triple order, so the report of shards merged
 * equals the report of one run, bit for bit.
 */
export const reportOf = (
  entailmentScores: ArrayLike<number>,
  contradictionScores: ArrayLike<number>,
  thresholds: Pick<Thresholds, "hi" | "lo">,
  kept: number
): CurationReport => {
  const n = entailmentScores.length
  let eKept = 0
  let cKept = 0
  let cTotal = 0
  let eSum = 0
  let cSum = 0
  for (let i = 0; i < n; i++) {
    const es = entailmentScores[i]!
    const cs = contradictionScores[i]!
    eSum += es
    if (es >= thresholds.hi) eKept++
    if (!Number.isNaN(cs)) {
      cTotal++
      cSum += cs
      if (cs <= thresholds.lo) cKept++
    }
  }
  return {
    triples: n,
    kept,
    dropped: n - kept,
    entailments: { kept: eKept, dropped: n - eKept, meanScore: n ? eSum / n : 0 },
    contradictions: { kept: cKept, dropped: cTotal - cKept, meanScore: cTotal ? cSum / cTotal : 0 },
    thresholds: { hi: thresholds.hi, lo: thresholds.lo }
  }
}

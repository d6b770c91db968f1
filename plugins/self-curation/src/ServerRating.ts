import type { ModelError, OpenAiCausalLMShape, TopLogprob } from "@embedflow/models"
import { Effect } from "effect"
import { SCALE } from "./DigitScore.js"
import { render } from "./RatingPrompt.js"

export interface ServerRateOptions {
  readonly template: string
  /**
   * "logprobs": expected digit over the server's top-k next tokens (renormalised over the digits
   * among them), falling back to the text for a prompt whose top-k holds no digit; "text": the first
   * number 0-5 in a short greedy completion.
   */
  readonly scoring: "logprobs" | "text"
  readonly topK: number
  readonly seed: number
  readonly onProgress?: ((done: number, total: number) => Effect.Effect<void>) | undefined
}

/** Expected rating over the digit tokens among a top-k list, or NaN when none of them is a digit. */
export const expectedRatingFromTop = (top: ReadonlyArray<TopLogprob>): number => {
  let z = 0
  let weighted = 0
  const seen = new Set<number>()
  for (const { token, logprob } of top) {
    const t = token.trim()
    if (t.length !== 1 || !/[0-5]/.test(t)) continue
    const d = Number(t)
    if (seen.has(d)) continue // " 3" and "3" are different tokens for the same rating: count the likelier
    seen.add(d)
    const p = Math.exp(logprob)
    z += p
    weighted += d * p
  }
  return z > 0 ? weighted / z : Number.NaN
}

/** The first rating 0-5 (optionally with decimals) in a completion, or NaN. */
export const parseRating = (text: string): number => {
  const m = /(?:^|[^\d.])([0-5](?:\.\d+)?)(?![\d])/.exec(text)
  if (!m) return Number.NaN
  const v = Number(m[1])
  return v >= SCALE[0] && v <= SCALE[SCALE.length - 1] ? v : Number.NaN
}

/**
 * Ratings from an OpenAI-compatible server, for models whose raw logits are out of reach. A pair
 * whose rating cannot be read is NaN, which every threshold rejects.
 */
export const ratePairsWithServer = (
  lm: OpenAiCausalLMShape,
  pairs: ReadonlyArray<readonly [string, string]>,
  options: ServerRateOptions
): Effect.Effect<Float64Array, ModelError> =>
  Effect.gen(function* () {
    const prompts = pairs.map(([a, b]) => render(options.template, a, b))
    const scores = new Float64Array(pairs.length).fill(Number.NaN)
    if (options.scoring === "logprobs") {
      const tops = yield* lm.nextTokenTopLogprobs(prompts, options.topK)
      tops.forEach((top, i) => (scores[i] = expectedRatingFromTop(top)))
    }
    const unread = [...scores.keys()].filter((i) => Number.isNaN(scores[i]!))
    if (unread.length > 0) {
      const texts = yield* lm.generate(
        unread.map((i) => prompts[i]!),
        { maxNewTokens: 4, temperature: 0, seed: options.seed }
      )
      texts.forEach((text, j) => (scores[unread[j]!] = parseRating(text)))
    }
    if (options.onProgress) yield* options.onProgress(pairs.length, pairs.length)
    return scores
  })

import { Ports } from "@embedflow/core"
import { type CausalLMShape, type ModelError, PromptTemplate } from "@embedflow/models"
import { Effect } from "effect"

type LabeledExample = Ports.LabeledExample

export interface ScoreOptions {
  readonly template: PromptTemplate.PromptTemplate
  /** Prompt/continuation pairs per `logLikelihood` call. */
  readonly batchSize: number
  /** Called after each batch with (pairs done, pairs total). */
  readonly onProgress?: ((done: number, total: number) => Effect.Effect<void>) | undefined
}

/**
 * LLM-R's feedback signal: for each query x with gold output y and each candidate demonstration c,
 * score(c) = log p(y | c, x) = sum over y's tokens of the LLM's log-probabilities, with the prompt
 * "c  x" rendered by the template. One forward pass per (query, candidate) pair, in batches.
 * Candidates are returned sorted by score, best first.
 */
export const scoreCandidates = (
  lm: CausalLMShape,
  queries: ReadonlyArray<{ readonly query: LabeledExample; readonly candidates: ReadonlyArray<LabeledExample> }>,
  options: ScoreOptions
): Effect.Effect<Array<Ports.ScoredQuery>, ModelError> =>
  Effect.gen(function* () {
    const pairs = queries.flatMap(({ query, candidates }) =>
      candidates.map((c) => PromptTemplate.render(options.template, [{ text: c.text, output: c.label }], query, query.label))
    )
    const scores = new Float64Array(pairs.length)
    const batch = Math.max(1, options.batchSize)
    for (let start = 0; start < pairs.length; start += batch) {
      const ll = yield* lm.logLikelihood(pairs.slice(start, start + batch))
      for (let i = 0; i < ll.length; i++) scores[start + i] = ll[i]!.total
      if (options.onProgress) yield* options.onProgress(Math.min(start + batch, pairs.length), pairs.length)
    }
    let at = 0
    return queries.map(({ query, candidates }) => ({
      id: query.id,
      text: query.text,
      gold: query.label,
      candidates: Ports.sortCandidates(candidates.map((c) => ({ id: c.id, text: c.text, output: c.label, score: scores[at++]! })))
    }))
  })

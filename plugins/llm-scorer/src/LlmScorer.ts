import { Ports } from "@embedflow/core"
import { type CausalLMShape, type ModelError, PromptTemplate } from "@embedflow/models"
import { Effect } from "effect"

type LabeledExample = Ports.LabeledExample

/**
 * How a candidate's gold-output token log-probabilities become one score: `mean` (LLM-R's official
 * code: the average per-token log-probability, so long verbalizers are not penalised for their
 * length) or `sum` (the log-likelihood log p(y | c, x) itself).
 */
export type Reduction = "mean" | "sum"

/** One score from a continuation's log-likelihood, per `reduction`; `mean` of no tokens is 0. */
export const reduceLogLikelihood = (ll: { readonly total: number; readonly tokens: number }, reduction: Reduction): number =>
  reduction === "sum" ? ll.total : ll.tokens > 0 ? ll.total / ll.tokens : 0

export interface ScoreOptions {
  readonly template: PromptTemplate.PromptTemplate
  /** Default `mean` (LLM-R's official scoring). */
  readonly reduction?: Reduction | undefined
  /** Prompt/continuation pairs per `logLikelihood` call. */
  readonly batchSize: number
  /** Called after each batch with (pairs done, pairs total). */
  readonly onProgress?: ((done: number, total: number) => Effect.Effect<void>) | undefined
}

/**
 * LLM-R's feedback signal: for each query x with gold output y = y_1..y_T and each candidate
 * demonstration c, score(c) = (1/T) sum_t log p(y_t | y_<t, c, x) (`reduction: "mean"`, the default,
 * as LLM-R's official code) or the plain sum log p(y | c, x) (`"sum"`), with the prompt "c  x"
 * rendered by the template. A query's candidates share its gold tokens, so the reduction keeps their
 * order but sets the scale: a softmax over them (the KL distillation's teacher) is T times flatter
 * under the mean. One forward pass per (query, candidate) pair, in batches.
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
    const reduction = options.reduction ?? "mean"
    for (let start = 0; start < pairs.length; start += batch) {
      const ll = yield* lm.logLikelihood(pairs.slice(start, start + batch))
      for (let i = 0; i < ll.length; i++) scores[start + i] = reduceLogLikelihood(ll[i]!, reduction)
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

import type { Ports } from "@embedflow/core"
import { choiceAccuracy } from "@embedflow/eval"
import { type CausalLMShape, type ModelError, PromptTemplate } from "@embedflow/models"
import { Effect } from "effect"

type LabeledExample = Ports.LabeledExample

export interface IclOptions {
  readonly template: PromptTemplate.PromptTemplate
  /** The label verbalizers the LLM chooses among (the task's label set). */
  readonly labels: ReadonlyArray<string>
  /**
   * How a label's log-likelihood is compared: `sum` of its tokens' log-probabilities, or `mean` per
   * token (fairer when verbalizers have different token counts).
   */
  readonly normalize: "sum" | "mean"
  readonly batchSize: number
  readonly onProgress?: ((done: number, total: number) => Effect.Effect<void>) | undefined
}

export interface IclPrediction {
  readonly id: string
  readonly gold: string
  readonly predicted: string
  /** The demonstrations used, in prompt order (the best-ranked one last, nearest the query). */
  readonly demonstrations: ReadonlyArray<string>
}

export interface IclResult {
  readonly accuracy: number
  readonly correct: number
  readonly total: number
  readonly predictions: ReadonlyArray<IclPrediction>
}

/**
 * In-context classification: for each query, the prompt is its demonstrations then the query, and
 * the prediction is the label whose verbalizer the LLM finds most likely after it. `demos[i]` are
 * the retrieved demonstrations of `queries[i]`, best first; they are put in the prompt in reverse, so
 * the best one is nearest the query (as in LLM-R).
 */
export const evaluateIcl = (
  lm: CausalLMShape,
  queries: ReadonlyArray<LabeledExample>,
  demos: ReadonlyArray<ReadonlyArray<LabeledExample>>,
  options: IclOptions
): Effect.Effect<IclResult, ModelError | Error> =>
  Effect.gen(function* () {
    if (demos.length !== queries.length) {
      return yield* Effect.fail(new Error(`evaluateIcl: ${queries.length} queries but ${demos.length} demonstration lists`))
    }
    const labels = options.labels
    const unknown = queries.find((q) => !labels.includes(q.label))
    if (unknown) {
      return yield* Effect.fail(new Error(`evaluateIcl: query '${unknown.id}' has label '${unknown.label}', which is not among the labels ${labels.join(", ")}`))
    }
    const pairs = queries.flatMap((q, i) => {
      const shown = [...demos[i]!].reverse().map((d) => ({ text: d.text, output: d.label }))
      return labels.map((label) => PromptTemplate.render(options.template, shown, q, label))
    })
    const scores = new Float64Array(pairs.length)
    const batch = Math.max(1, options.batchSize)
    for (let start = 0; start < pairs.length; start += batch) {
      const ll = yield* lm.logLikelihood(pairs.slice(start, start + batch))
      for (let i = 0; i < ll.length; i++) {
        const r = ll[i]!
        scores[start + i] = options.normalize === "mean" ? r.total / Math.max(1, r.tokens) : r.total
      }
      if (options.onProgress) yield* options.onProgress(Math.min(start + batch, pairs.length), pairs.length)
    }
    const rows = queries.map((_, i) => scores.subarray(i * labels.length, (i + 1) * labels.length))
    const predictions = queries.map((q, i) => {
      let best = 0
      for (let j = 1; j < labels.length; j++) if (rows[i]![j]! > rows[i]![best]!) best = j
      return { id: q.id, gold: q.label, predicted: labels[best]!, demonstrations: [...demos[i]!].reverse().map((d) => d.id) }
    })
    const { accuracy, correct, total } = choiceAccuracy(rows, queries.map((q) => labels.indexOf(q.label)))
    return { accuracy, correct, total, predictions }
  })

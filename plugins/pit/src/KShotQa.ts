/**
 * k-shot closed-book QA: each test question is preceded by k demonstrations drawn (seeded, without
 * replacement) from a pool of other QA pairs, in the training format; the greedy continuation is
 * scored by exact match (the PIT paper's 5-shot EM). Generation stops at `<sep>` (the format's end
 * of answer, a newline in the paper's prompts), "." or ",", as closed-book QA is read in
 * lm-evaluation-harness (nq_open / triviaqa: `until: ["\n", ".", ","]`): no answer here holds either
 * mark, and a model that ends an answer as a document sentence ("Lima . Tilan studied …") is judged
 * on the answer it gave.
 */
import { type Gpt2Decoder, Rng } from "@embedflow/tensor"
import { type QaPair } from "./Biographies.js"
import { answerText, questionPrefix } from "./Curriculum.js"
import { exactMatch } from "./ExactMatch.js"
import { greedyContinuations } from "./GreedyDecoding.js"
import { type WordTokenizer } from "./WordTokenizer.js"

export const kShotPrompt = (demonstrations: ReadonlyArray<QaPair>, question: string): string =>
  [...demonstrations.map((d) => `${questionPrefix(d.question)} ${answerText(d.answer)}`), questionPrefix(question)].join(" ")

/** End-of-answer marks besides `<sep>` (lm-evaluation-harness' closed-book QA stop sequences). */
export const answerStopWords = [".", ","] as const

export interface KShotOptions {
  readonly k: number
  readonly seed: number
  readonly maxNewTokens: number
  readonly batchSize: number
}

export interface KShotReport {
  readonly exactMatch: number
  readonly questions: number
  readonly byRelation: Record<string, number>
  readonly predictions: Array<{ readonly id: string; readonly gold: string; readonly prediction: string; readonly correct: boolean }>
}

export const evaluateKShot = (
  model: Gpt2Decoder,
  tokenizer: WordTokenizer,
  questions: ReadonlyArray<QaPair>,
  pool: ReadonlyArray<QaPair>,
  options: KShotOptions
): KShotReport => {
  if (questions.length === 0) throw new RangeError("evaluateKShot: no questions")
  if (pool.length < options.k) throw new RangeError(`evaluateKShot: k = ${options.k} demonstrations but the pool has ${pool.length}`)
  const rng = new Rng(options.seed)
  const prompts = questions.map((q) => kShotPrompt(Array.from(rng.sample(pool.length, options.k), (i) => pool[i]!), q.question))
  const outputs = greedyContinuations(model, tokenizer, prompts, { ...options, stopWords: answerStopWords })
  const predictions = questions.map((q, i) => ({ id: q.id, gold: q.answer, prediction: outputs[i]!, correct: exactMatch(outputs[i]!, q.answer) }))
  const byRelation: Record<string, number> = {}
  for (const r of new Set(questions.map((q) => q.relation))) {
    const of = predictions.filter((_, i) => questions[i]!.relation === r)
    byRelation[r] = (100 * of.filter((p) => p.correct).length) / of.length
  }
  return { exactMatch: (100 * predictions.filter((p) => p.correct).length) / predictions.length, questions: questions.length, byRelation, predictions }
}

import { Ports } from "@embedflow/core"

const { demonstrationText } = Ports
type ScoredQuery = Ports.ScoredQuery
import { EmbeddingCache, type EncoderShape, type ModelError } from "@embedflow/models"
import { type Head, listwiseCrossEntropy, matrix } from "@embedflow/tensor"
import { Effect } from "effect"
import type { TrainingTools } from "@embedflow/tensor"

/**
 * LLM-R's reward model: a cross-encoder reads "[CLS] query [SEP] gold output [SEP] demonstration"
 * (the reward model can access the ground-truth label) and scores how much the demonstration helps
 * the LLM produce the gold output. Two forms (`train` param): a scoring head over a frozen encoder's
 * pooled embedding of that text (`head`, the cached-features mode), or the real cross-encoder with
 * the transformer itself trained (`backbone` / `lora`, CrossEncoderTraining.ts).
 */

/** The text the model reads for a (query, gold, candidate) triple; the tokenizer adds [CLS] and the final [SEP]. */
export const pairText = (query: string, gold: string, candidate: { readonly text: string; readonly output: string }): string =>
  `${query} [SEP] ${gold} [SEP] ${demonstrationText(candidate)}`

export interface TrainOptions {
  /** Negatives per query, sampled from the lower part of its ranking. */
  readonly negatives: number
  /**
   * Negatives are drawn from the candidates ranked below this fraction of the list (0.5: the bottom
   * half), so that near-ties with the positive are not taught as negatives.
   */
  readonly negativeFrom: number
  readonly epochs: number
  /** Queries per optimizer step. */
  readonly batchSize: number
}

export interface TrainingGroup {
  readonly queryId: string
  /** Pair texts: the positive (the top-ranked candidate) first, then the negatives. */
  readonly pairs: ReadonlyArray<string>
}

/**
 * Training groups of one epoch: per query, the top-ranked candidate and `negatives` candidates drawn
 * without replacement (seeded) from its bottom ranks. Queries with fewer than 2 candidates are skipped.
 */
export const trainingGroups = (
  data: ReadonlyArray<ScoredQuery>,
  options: Pick<TrainOptions, "negatives" | "negativeFrom">,
  random: () => number
): Array<TrainingGroup> => {
  const groups: Array<TrainingGroup> = []
  for (const q of data) {
    const ranked = q.candidates
    if (ranked.length < 2) continue
    const from = Math.min(ranked.length - 1, Math.max(1, Math.floor(ranked.length * options.negativeFrom)))
    const pool = ranked.slice(from)
    // Partial Fisher-Yates: the first `take` entries become a uniform sample without replacement.
    const take = Math.min(options.negatives, pool.length)
    for (let i = 0; i < take; i++) {
      const j = i + Math.floor(random() * (pool.length - i))
      const t = pool[i]!
      pool[i] = pool[j]!
      pool[j] = t
    }
    groups.push({ queryId: q.id, pairs: [ranked[0]!, ...pool.slice(0, take)].map((c) => pairText(q.text, q.gold, c)) })
  }
  return groups
}

/** Every pair text the training will embed (positives and all possible negatives). */
export const allPairTexts = (data: ReadonlyArray<ScoredQuery>): Array<string> =>
  data.flatMap((q) => q.candidates.map((c) => pairText(q.text, q.gold, c)))

export interface EpochStats {
  readonly epoch: number
  readonly loss: number
  /** Fraction of groups whose positive outscored all its negatives. */
  readonly accuracy: number
}

/**
 * Trains the scoring head (one output per row) with the listwise cross-entropy over each group's (1 + n) pair scores, the
 * positive as the target (LLM-R's reward-model loss), on cached backbone embeddings.
 */
export const train = (
  head: Head,
  cache: EmbeddingCache.EmbeddingCache,
  data: ReadonlyArray<ScoredQuery>,
  options: TrainOptions,
  tools: TrainingTools,
  onEpoch?: (stats: EpochStats) => void
): Array<EpochStats> => {
  const history: Array<EpochStats> = []
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const groups = tools.shuffle(trainingGroups(data, options, tools.random))
    let lossSum = 0
    let hits = 0
    for (let start = 0; start < groups.length; start += options.batchSize) {
      const batch = groups.slice(start, start + options.batchSize)
      const texts = batch.flatMap((g) => g.pairs)
      const scores = head.forward(matrix(texts.length, cache.dim, EmbeddingCache.gather(cache, texts))).data
      const grad = new Float32Array(texts.length)
      let at = 0
      for (const g of batch) {
        // Groups may differ in size (short candidate lists), so each is its own 1 x (1 + n) row.
        const m = g.pairs.length
        const target = new Float32Array(m)
        target[0] = 1
        const { loss, grad: dScores } = listwiseCrossEntropy(matrix(1, m, scores.slice(at, at + m)), matrix(1, m, target))
        lossSum += loss
        let best = true
        for (let j = 1; j < m; j++) if (scores[at + j]! >= scores[at]!) best = false
        if (best) hits++
        for (let j = 0; j < m; j++) grad[at + j] = dScores.data[j]! / batch.length
        at += m
      }
      head.backward(matrix(texts.length, 1, grad))
      tools.step()
    }
    const stats = { epoch, loss: lossSum / Math.max(1, groups.length), accuracy: hits / Math.max(1, groups.length) }
    history.push(stats)
    onEpoch?.(stats)
  }
  return history
}

/** Reward of each (query, candidate) pair: the head's score of the cached pair embedding. */
export const score = (head: Head, cache: EmbeddingCache.EmbeddingCache, pairs: ReadonlyArray<string>): Float32Array =>
  head.predict(matrix(pairs.length, cache.dim, EmbeddingCache.gather(cache, pairs))).data

/** Rewards of arbitrary (query, gold, demonstration) triples: embeds the pair texts with the backbone, then scores. */
export const scorePairs = (
  encoder: EncoderShape,
  head: Head,
  pairs: ReadonlyArray<{ readonly query: string; readonly gold: string; readonly candidate: { readonly text: string; readonly output: string } }>,
  batchSize = 64
): Effect.Effect<Float32Array, ModelError> => {
  const texts = pairs.map((p) => pairText(p.query, p.gold, p.candidate))
  return Effect.map(EmbeddingCache.build(encoder, texts, { batchSize }), (cache) => score(head, cache, texts))
}

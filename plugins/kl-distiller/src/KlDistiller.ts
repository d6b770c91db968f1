import { Ports } from "@embedflow/core"
import { EmbeddingCache } from "@embedflow/models"
import { type Head, l2Normalize, matrix, type TrainingTools } from "@embedflow/tensor"
import { kendallTau } from "./KendallTau.js"
import { objective, type ObjectiveOptions } from "./Objective.js"

/**
 * LLM-R's retriever: a bi-encoder (one frozen backbone, one trainable head shared by queries and
 * demonstrations) trained to reproduce the reward model's ranking of each query's candidates.
 */

export interface DistillOptions extends ObjectiveOptions {
  readonly epochs: number
  /** Queries per optimizer step; also the number of in-batch negatives + 1 for InfoNCE. */
  readonly batchSize: number
}

export interface DistillEpoch {
  readonly epoch: number
  readonly loss: number
  readonly kl: number
  readonly infoNce: number
}

/** The texts the retriever embeds: the query's input; a demonstration's input and output. */
export const queryText = (q: { readonly text: string }): string => q.text
export const demonstrationText = Ports.demonstrationText
type ScoredQuery = Ports.ScoredQuery

/** Every text distillation embeds, for the embedding cache. */
export const textsOf = (data: ReadonlyArray<ScoredQuery>): Array<string> =>
  data.flatMap((q) => [queryText(q), ...q.candidates.map(demonstrationText)])

/** A batch of queries as the objective sees it (minus the vectors): candidates concatenated, teacher scores, positives. */
export const objectiveBatchOf = (batch: ReadonlyArray<ScoredQuery>) => {
  const offsets = [0]
  const candidateTexts: Array<string> = []
  const rewards: Array<number> = []
  const positives: Array<number> = []
  const positiveIds: Array<string> = []
  const candidateIds: Array<string> = []
  for (const q of batch) {
    let best = 0
    q.candidates.forEach((c, j) => {
      if (c.score > q.candidates[best]!.score) best = j
      candidateTexts.push(demonstrationText(c))
      candidateIds.push(c.id)
      rewards.push(c.score)
    })
    positives.push(offsets[offsets.length - 1]! + best)
    positiveIds.push(q.candidates[best]!.id)
    offsets.push(candidateTexts.length)
  }
  return { offsets, candidateTexts, rewards, positives, positiveIds, candidateIds }
}

/**
 * Trains `head` on cached backbone embeddings: each step takes `batchSize` queries with all their
 * candidates, projects them with the head, and descends KL(teacher || student) + alpha * InfoNCE.
 * Candidate scores in `data` are the teacher's (reward model scores, or LLM log-likelihoods).
 */
export const distill = (
  head: Head,
  cache: EmbeddingCache.EmbeddingCache,
  data: ReadonlyArray<ScoredQuery>,
  options: DistillOptions,
  tools: TrainingTools,
  onEpoch?: (stats: DistillEpoch) => void
): Array<DistillEpoch> => {
  const usable = data.filter((q) => q.candidates.length >= 2)
  const history: Array<DistillEpoch> = []
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const order = tools.shuffle(usable)
    let loss = 0
    let kl = 0
    let infoNce = 0
    let steps = 0
    for (let start = 0; start < order.length; start += options.batchSize) {
      const batch = order.slice(start, start + options.batchSize)
      const { offsets, candidateTexts, rewards, positives, positiveIds, candidateIds } = objectiveBatchOf(batch)
      const texts = [...batch.map(queryText), ...candidateTexts]
      const projected = head.forward(matrix(texts.length, cache.dim, EmbeddingCache.gather(cache, texts))).data
      const dim = head.outputDim
      const result = objective(
        {
          dim,
          queries: projected.subarray(0, batch.length * dim),
          candidates: projected.subarray(batch.length * dim),
          offsets,
          rewards,
          positives,
          positiveIds,
          candidateIds
        },
        options
      )
      const grad = new Float32Array(projected.length)
      grad.set(result.gradQueries, 0)
      grad.set(result.gradCandidates, batch.length * dim)
      head.backward(matrix(texts.length, dim, grad))
      tools.step()
      loss += result.loss
      kl += result.kl
      infoNce += result.infoNce
      steps++
    }
    const stats = { epoch, loss: loss / Math.max(1, steps), kl: kl / Math.max(1, steps), infoNce: infoNce / Math.max(1, steps) }
    history.push(stats)
    onEpoch?.(stats)
  }
  return history
}

/** Unit-length retriever vectors of `texts` ([texts.length x outDim]); no head = the base encoder. */
export const encode = (
  head: Head | undefined,
  cache: EmbeddingCache.EmbeddingCache,
  texts: ReadonlyArray<string>
): Float32Array => {
  const base = matrix(texts.length, cache.dim, EmbeddingCache.gather(cache, texts))
  return l2Normalize(head ? head.predict(base) : base).y.data
}

export interface Hit {
  readonly index: number
  readonly score: number
}

/**
 * The `k` documents of highest cosine for each query (both unit-length), best first; `exclude(q, d)`
 * drops pairs (a query finding itself in the pool it was drawn from).
 */
export const topK = (
  queries: Float32Array,
  documents: Float32Array,
  dim: number,
  k: number,
  exclude?: (query: number, document: number) => boolean
): Array<Array<Hit>> => {
  const nq = queries.length / dim
  const nd = documents.length / dim
  const results: Array<Array<Hit>> = []
  const scores = new Float32Array(nd)
  for (let q = 0; q < nq; q++) {
    for (let d = 0; d < nd; d++) {
      let s = 0
      for (let j = 0; j < dim; j++) s += queries[q * dim + j]! * documents[d * dim + j]!
      scores[d] = s
    }
    const hits: Array<Hit> = []
    for (let d = 0; d < nd; d++) {
      if (exclude?.(q, d)) continue
      // Insertion into a sorted list of at most k: k is small (demonstrations, candidates).
      if (hits.length === k && scores[d]! <= hits[k - 1]!.score) continue
      let at = hits.length
      while (at > 0 && hits[at - 1]!.score < scores[d]!) at--
      hits.splice(at, 0, { index: d, score: scores[d]! })
      if (hits.length > k) hits.pop()
    }
    results.push(hits)
  }
  return results
}

/**
 * How well a retriever orders each query's candidates like the teacher does: Kendall's tau between
 * the candidates' scores in `data` and the retriever's cosines, averaged over queries.
 */
export const rankAgreement = (
  head: Head | undefined,
  cache: EmbeddingCache.EmbeddingCache,
  data: ReadonlyArray<ScoredQuery>
): number => rankAgreementBy((texts) => encode(head, cache, texts), data)

/** rankAgreement with any encoder of texts to unit vectors (e.g. a fine-tuned backbone in process). */
export const rankAgreementBy = (embed: (texts: ReadonlyArray<string>) => Float32Array, data: ReadonlyArray<ScoredQuery>): number => {
  let sum = 0
  let n = 0
  for (const q of data) {
    if (q.candidates.length < 2) continue
    const texts = [queryText(q), ...q.candidates.map(demonstrationText)]
    const v = embed(texts)
    const dim = v.length / texts.length
    const cos = q.candidates.map((_, j) => {
      let s = 0
      for (let k = 0; k < dim; k++) s += v[k]! * v[(j + 1) * dim + k]!
      return s
    })
    sum += kendallTau(
      q.candidates.map((c) => c.score),
      cos
    )
    n++
  }
  return n === 0 ? 0 : sum / n
}

import { averagePrecision } from "./AveragePrecision.js"

/** One reranking instance: similarity of the query to each candidate, and which are relevant. */
export interface RerankingInstance {
  readonly scores: ArrayLike<number>
  readonly relevant: ArrayLike<boolean>
}

export interface RerankingMetrics {
  /** Mean over instances of scikit-learn's average precision of the candidates' scores. */
  readonly map: number
  /** Mean over instances of 1/rank of the first relevant candidate within the top `k` (0 beyond). */
  readonly mrr: number
  /** Instances scored; those with no relevant or no irrelevant candidate are left out, as MTEB does. */
  readonly instances: number
  readonly skipped: number
}

/** Reciprocal rank of the first relevant item in the top k by score (stable order on ties, as numpy's argsort of -s is not guaranteed to be). */
export const reciprocalRankAt = (scores: ArrayLike<number>, relevant: ArrayLike<boolean>, k: number): number => {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!)
  for (let r = 0; r < Math.min(k, order.length); r++) if (relevant[order[r]!]) return 1 / (r + 1)
  return 0
}

/** MTEB's RerankingEvaluator metrics: MAP and MRR@k over instances. */
export const evaluateReranking = (instances: ReadonlyArray<RerankingInstance>, k = 10): RerankingMetrics => {
  let map = 0
  let mrr = 0
  let used = 0
  for (const inst of instances) {
    let pos = 0
    for (let i = 0; i < inst.relevant.length; i++) if (inst.relevant[i]) pos++
    if (pos === 0 || pos === inst.relevant.length) continue
    map += averagePrecision(inst.scores, inst.relevant)
    mrr += reciprocalRankAt(inst.scores, inst.relevant, k)
    used++
  }
  return { map: used ? map / used : NaN, mrr: used ? mrr / used : NaN, instances: used, skipped: instances.length - used }
}

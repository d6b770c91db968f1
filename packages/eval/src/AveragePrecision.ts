/**
 * Average precision of a ranking by score, as scikit-learn's `average_precision_score` (binary):
 * AP = Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct score thresholds, highest first, so tied scores count as
 * one step (no interpolation). MTEB's pair classification and reranking use exactly this.
 * Returns NaN when there is no positive (scikit-learn warns and returns a meaningless value).
 */
export const averagePrecision = (scores: ArrayLike<number>, relevant: ArrayLike<boolean | number>): number => {
  const n = scores.length
  if (relevant.length !== n) throw new RangeError(`averagePrecision: ${n} scores but ${relevant.length} labels`)
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!)
  let positives = 0
  for (let i = 0; i < n; i++) if (relevant[i]) positives++
  if (positives === 0) return NaN
  let tp = 0
  let seen = 0
  let ap = 0
  let prevRecall = 0
  for (let i = 0; i < n; ) {
    // All items sharing this score enter together (one threshold).
    const s = scores[order[i]!]!
    while (i < n && scores[order[i]!]! === s) {
      if (relevant[order[i]!]) tp++
      seen++
      i++
    }
    const recall = tp / positives
    ap += (recall - prevRecall) * (tp / seen)
    prevRecall = recall
  }
  return ap
}

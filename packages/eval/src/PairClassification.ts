import { averagePrecision } from "./AveragePrecision.js"
import { pairwiseCosine, type Matrix } from "./Sts.js"

/** Pair classification metrics of one similarity (MTEB's PairClassificationEvaluator, cosine). */
export interface PairClassificationMetrics {
  readonly accuracy: number
  readonly accuracy_threshold: number
  readonly f1: number
  readonly f1_threshold: number
  readonly precision: number
  readonly recall: number
  readonly ap: number
}

const sortedDesc = (scores: ArrayLike<number>, labels: ArrayLike<number>) =>
  Array.from({ length: scores.length }, (_, i) => i)
    .sort((a, b) => scores[b]! - scores[a]!)
    .map((i) => [scores[i]!, labels[i]!] as const)

/**
 * The best accuracy of "similar iff score > threshold" over thresholds midway between consecutive
 * sorted scores, and that threshold (MTEB's find_best_acc_and_threshold: the last gap is not tried).
 */
export const bestAccuracy = (scores: ArrayLike<number>, labels: ArrayLike<number>): { accuracy: number; threshold: number } => {
  const rows = sortedDesc(scores, labels)
  let best = 0
  let threshold = -1
  let positivesSoFar = 0
  let remainingNegatives = 0
  for (let i = 0; i < labels.length; i++) if (labels[i] === 0) remainingNegatives++
  for (let i = 0; i < rows.length - 1; i++) {
    if (rows[i]![1] === 1) positivesSoFar++
    else remainingNegatives--
    const acc = (positivesSoFar + remainingNegatives) / rows.length
    if (acc > best) {
      best = acc
      threshold = (rows[i]![0] + rows[i + 1]![0]) / 2
    }
  }
  return { accuracy: best, threshold }
}

/** The best F1 over the same thresholds, with its precision and recall (MTEB's find_best_f1_and_threshold). */
export const bestF1 = (scores: ArrayLike<number>, labels: ArrayLike<number>) => {
  const rows = sortedDesc(scores, labels)
  let total = 0
  for (let i = 0; i < labels.length; i++) total += labels[i]!
  let best = { f1: 0, precision: 0, recall: 0, threshold: 0 }
  let extracted = 0
  let correct = 0
  for (let i = 0; i < rows.length - 1; i++) {
    extracted++
    if (rows[i]![1] === 1) correct++
    if (correct > 0) {
      const precision = correct / extracted
      const recall = correct / total
      const f1 = (2 * precision * recall) / (precision + recall)
      if (f1 > best.f1) best = { f1, precision, recall, threshold: (rows[i]![0] + rows[i + 1]![0]) / 2 }
    }
  }
  return best
}

/** Metrics of scores (higher = more similar) against 0/1 labels. */
export const pairClassificationMetrics = (scores: ArrayLike<number>, labels: ArrayLike<number>): PairClassificationMetrics => {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) throw new RangeError(`pair classification: label ${i} is ${labels[i]}, expected 0 or 1`)
  }
  const acc = bestAccuracy(scores, labels)
  const f1 = bestF1(scores, labels)
  return {
    accuracy: acc.accuracy,
    accuracy_threshold: acc.threshold,
    f1: f1.f1,
    f1_threshold: f1.threshold,
    precision: f1.precision,
    recall: f1.recall,
    ap: averagePrecision(scores, labels)
  }
}

/** Cosine pair classification of embedded pairs (row i of `a` with row i of `b`). */
export const evaluatePairClassification = (a: Matrix, b: Matrix, labels: ArrayLike<number>): PairClassificationMetrics =>
  pairClassificationMetrics(pairwiseCosine(a, b), labels)

/** Row-wise similarity of two matrices (float64 accumulation). */
const rowwise = (a: Matrix, b: Matrix, f: (x: number, y: number, acc: number) => number, finish: (acc: number) => number = (v) => v) => {
  const out = new Float64Array(a.count)
  for (let r = 0; r < a.count; r++) {
    let acc = 0
    for (let j = 0; j < a.dim; j++) acc = f(a.data[r * a.dim + j]!, b.data[r * b.dim + j]!, acc)
    out[r] = finish(acc)
  }
  return out
}

/**
 * MTEB's full pair classification output: the metrics under cosine, dot product, and (negated, so
 * that higher means more similar) Euclidean and Manhattan distance, with `max_*` over them.
 * Distance thresholds are reported as distances (sign restored).
 */
export const evaluatePairClassificationAll = (a: Matrix, b: Matrix, labels: ArrayLike<number>) => {
  const sims = {
    cosine: pairwiseCosine(a, b),
    dot: rowwise(a, b, (x, y, s) => s + x * y),
    euclidean: rowwise(a, b, (x, y, s) => s + (x - y) ** 2, (s) => -Math.sqrt(s)),
    manhattan: rowwise(a, b, (x, y, s) => s + Math.abs(x - y), (s) => -s)
  }
  const out: Record<string, number> = {}
  for (const [name, scores] of Object.entries(sims)) {
    const m = pairClassificationMetrics(scores, labels)
    const sign = name === "euclidean" || name === "manhattan" ? -1 : 1
    for (const [k, v] of Object.entries(m)) out[`${name}_${k}`] = k.endsWith("threshold") ? sign * v : v
  }
  for (const k of ["accuracy", "f1", "precision", "recall", "ap"]) {
    out[`max_${k}`] = Math.max(...Object.keys(sims).map((n) => out[`${n}_${k}`]!))
  }
  return out
}

/** Accuracy of in-context-learning outputs against gold answers. */

export type Normalize = "exact" | "trim" | "trim-lowercase"

export interface AccuracyResult {
  readonly accuracy: number
  readonly correct: number
  readonly total: number
}

const normalizers: Record<Normalize, (s: string) => string> = {
  exact: (s) => s,
  trim: (s) => s.trim(),
  "trim-lowercase": (s) => s.trim().toLowerCase()
}

/**
 * Fraction of predictions equal to their gold answer (or to one of several accepted answers) after
 * normalisation, "trim-lowercase" by default as ICL generations differ in case and spacing.
 */
export const iclAccuracy = (
  predictions: ReadonlyArray<string>,
  golds: ReadonlyArray<string | ReadonlyArray<string>>,
  options: { readonly normalize?: Normalize } = {}
): AccuracyResult => {
  if (predictions.length !== golds.length) {
    throw new RangeError(`iclAccuracy: ${predictions.length} predictions for ${golds.length} gold answers; expected equal counts`)
  }
  if (predictions.length === 0) throw new RangeError("iclAccuracy: no examples")
  const norm = normalizers[options.normalize ?? "trim-lowercase"]
  let correct = 0
  for (let i = 0; i < predictions.length; i++) {
    const p = norm(predictions[i]!)
    const g = golds[i]!
    if (typeof g === "string" ? norm(g) === p : g.some((a) => norm(a) === p)) correct++
  }
  return { accuracy: correct / predictions.length, correct, total: predictions.length }
}

/** Accuracy of label choices (argmax over candidate scores, e.g. LLM log-likelihoods of each label). */
export const choiceAccuracy = (scores: ReadonlyArray<ArrayLike<number>>, gold: ReadonlyArray<number>): AccuracyResult => {
  if (scores.length !== gold.length) throw new RangeError(`choiceAccuracy: ${scores.length} score rows for ${gold.length} labels`)
  if (scores.length === 0) throw new RangeError("choiceAccuracy: no examples")
  let correct = 0
  for (let i = 0; i < scores.length; i++) {
    const row = scores[i]!
    let best = 0
    for (let j = 1; j < row.length; j++) if (row[j]! > row[best]!) best = j
    if (best === gold[i]) correct++
  }
  return { accuracy: correct / scores.length, correct, total: scores.length }
}

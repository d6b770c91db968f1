import { type Matrix, Rng } from "@embedflow/tensor"
import { averagePrecision } from "./AveragePrecision.js"
import { fitLogisticRegression, predict } from "./LogisticRegression.js"

/**
 * MTEB's classification protocol (AbsTaskClassification + logRegClassificationEvaluator):
 * `nExperiments` times, undersample the training set to at most `samplesPerLabel` examples per
 * label (walking one index permutation that is reshuffled before each experiment), fit a logistic
 * regression on the frozen embeddings (max_iter 100), score the whole test set; report the mean of
 * accuracy, macro-F1 and weighted-F1 (and, for two classes, AP of the hard predictions, as MTEB
 * does), with every experiment's scores.
 */
export interface ClassificationOptions {
  readonly nExperiments?: number
  readonly samplesPerLabel?: number
  readonly seed: number
  readonly maxIter?: number
  readonly C?: number
}

export interface ClassificationScores {
  readonly accuracy: number
  readonly f1: number
  readonly f1_weighted: number
  readonly ap?: number
}

/** The training indices of each experiment: MTEB's `_undersample_data` on a persistent, reshuffled permutation. */
export const undersamplingPlan = (labels: ReadonlyArray<string>, options: Pick<ClassificationOptions, "nExperiments" | "samplesPerLabel" | "seed">): Array<Int32Array> => {
  const n = options.nExperiments ?? 10
  const perLabel = options.samplesPerLabel ?? 8
  const rng = new Rng(options.seed)
  const idxs = Int32Array.from({ length: labels.length }, (_, i) => i)
  const plan: Array<Int32Array> = []
  for (let e = 0; e < n; e++) {
    rng.shuffle(idxs)
    const counts = new Map<string, number>()
    const chosen: Array<number> = []
    for (const i of idxs) {
      const c = counts.get(labels[i]!) ?? 0
      if (c < perLabel) {
        chosen.push(i)
        counts.set(labels[i]!, c + 1)
      }
    }
    plan.push(Int32Array.from(chosen))
  }
  return plan
}

/** Accuracy, macro-F1 and weighted-F1 as scikit-learn computes them (F1 of a class never predicted nor present: 0). */
export const classificationScores = (truth: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): ClassificationScores => {
  const n = truth.length
  const tp = new Float64Array(classes)
  const predCount = new Float64Array(classes)
  const support = new Float64Array(classes)
  let correct = 0
  for (let i = 0; i < n; i++) {
    support[truth[i]!]!++
    predCount[predicted[i]!]!++
    if (truth[i] === predicted[i]) {
      correct++
      tp[truth[i]!]!++
    }
  }
  let macro = 0
  let weighted = 0
  let labelsSeen = 0
  for (let c = 0; c < classes; c++) {
    if (support[c] === 0 && predCount[c] === 0) continue
    labelsSeen++
    const f1 = support[c]! + predCount[c]! === 0 ? 0 : (2 * tp[c]!) / (support[c]! + predCount[c]!)
    macro += f1
    weighted += f1 * support[c]!
  }
  const scores: ClassificationScores = { accuracy: correct / n, f1: macro / labelsSeen, f1_weighted: weighted / n }
  if (classes === 2) return { ...scores, ap: averagePrecision(predicted, Array.from(truth, (t) => t === 1)) }
  return scores
}

export interface ClassificationResult extends ClassificationScores {
  readonly scores_per_experiment: ReadonlyArray<ClassificationScores>
  readonly samples_per_label: number
  readonly n_experiments: number
}

/**
 * Runs the protocol. `trainRows(indices)` returns the embeddings of those training examples (so a
 * caller embeds only the sampled ones); `test` holds every test example's embedding in order.
 * Labels are class indices 0..classes-1 (sorted label names, as scikit-learn orders classes).
 */
export const evaluateClassification = (
  trainLabels: ReadonlyArray<string>,
  trainRows: (indices: Int32Array) => Matrix,
  testLabels: ReadonlyArray<string>,
  test: Matrix,
  options: ClassificationOptions
): ClassificationResult => {
  const names = [...new Set([...trainLabels, ...testLabels])].sort()
  const index = new Map(names.map((l, i) => [l, i]))
  const testY = Int32Array.from(testLabels, (l) => index.get(l)!)
  const plan = undersamplingPlan(trainLabels, options)
  const perExperiment = plan.map((indices) => {
    const x = trainRows(indices)
    const y = Int32Array.from(indices, (i) => index.get(trainLabels[i]!)!)
    const model = fitLogisticRegression(x, y, names.length, { maxIter: options.maxIter ?? 100, ...(options.C !== undefined ? { C: options.C } : {}) })
    return classificationScores(testY, predict(model, test), names.length)
  })
  const mean = (key: keyof ClassificationScores) => perExperiment.reduce((s, e) => s + (e[key] ?? 0), 0) / perExperiment.length
  return {
    accuracy: mean("accuracy"),
    f1: mean("f1"),
    f1_weighted: mean("f1_weighted"),
    ...(names.length === 2 ? { ap: mean("ap") } : {}),
    scores_per_experiment: perExperiment,
    samples_per_label: options.samplesPerLabel ?? 8,
    n_experiments: plan.length
  }
}

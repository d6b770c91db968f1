import * as fs from "node:fs"
import { fromRows } from "@embedflow/tensor"
import { describe, expect, it } from "vitest"
import { averagePrecision } from "../src/AveragePrecision.js"
import { classificationScores, undersamplingPlan } from "../src/Classification.js"
import { fitLogisticRegression, logisticObjective, predict, predictProba } from "../src/LogisticRegression.js"
import { miniBatchKMeans } from "../src/MiniBatchKMeans.js"
import { pairClassificationMetrics } from "../src/PairClassification.js"
import { evaluateReranking } from "../src/Reranking.js"
import { vMeasure } from "../src/VMeasure.js"

/** scikit-learn 1.2.1 figures; inputs and outputs written by fixtures/make_sklearn_fixtures.py. */
const sk = JSON.parse(fs.readFileSync(new URL("./fixtures/sklearn.json", import.meta.url), "utf8"))

describe("average precision (scikit-learn's average_precision_score)", () => {
  it("matches on scores with ties", () => {
    expect(averagePrecision(sk.average_precision.scores, sk.average_precision.labels)).toBeCloseTo(sk.average_precision.ap, 12)
  })
  it("hand case: ranks 1 and 3 relevant -> (1 + 2/3) / 2", () => {
    expect(averagePrecision([0.9, 0.8, 0.7], [1, 0, 1])).toBeCloseTo((1 + 2 / 3) / 2, 12)
  })
})

describe("pair classification (MTEB's thresholds, scikit-learn's metrics by brute force)", () => {
  it("max accuracy, its threshold, best F1 and AP", () => {
    const r = pairClassificationMetrics(sk.pair_classification.scores, sk.pair_classification.labels)
    const ref = sk.pair_classification
    expect(r.accuracy).toBeCloseTo(ref.accuracy, 12)
    expect(r.accuracy_threshold).toBeCloseTo(ref.accuracy_threshold, 12)
    expect(r.f1).toBeCloseTo(ref.f1, 12)
    expect(r.f1_threshold).toBeCloseTo(ref.f1_threshold, 12)
    expect(r.ap).toBeCloseTo(ref.ap, 12)
  })
})

describe("V-measure (scikit-learn's homogeneity_completeness_v_measure)", () => {
  it.each([0, 1, 2])("case %i", (i) => {
    const ref = sk.v_measure[i]
    const r = vMeasure(ref.classes, ref.clusters)
    expect(r.homogeneity).toBeCloseTo(ref.homogeneity, 12)
    expect(r.completeness).toBeCloseTo(ref.completeness, 12)
    expect(r.v_measure).toBeCloseTo(ref.v_measure, 12)
  })
  it("a relabelled perfect clustering is 1, one cluster for many classes has completeness 1 and homogeneity 0", () => {
    expect(vMeasure(["a", "a", "b", "c"], [2, 2, 0, 1]).v_measure).toBeCloseTo(1, 12)
    const one = vMeasure(["a", "b", "c"], [0, 0, 0])
    expect(one.completeness).toBe(1)
    expect(one.homogeneity).toBe(0)
  })
})

describe("reranking (MTEB's RerankingEvaluator: per-query AP and MRR@10)", () => {
  it("matches scikit-learn / numpy", () => {
    const inst = sk.reranking.instances.map((i: { scores: Array<number>; relevant: Array<number> }) => ({ scores: i.scores, relevant: i.relevant.map((r) => r === 1) }))
    const r = evaluateReranking(inst, 10)
    expect(r.map).toBeCloseTo(sk.reranking.map, 12)
    expect(r.mrr).toBeCloseTo(sk.reranking.mrr_at_10, 12)
    expect(r.instances).toBe(25)
  })
  it("instances with no relevant or only relevant candidates are left out", () => {
    const r = evaluateReranking([{ scores: [1, 2], relevant: [false, false] }, { scores: [1, 2], relevant: [true, true] }, { scores: [1, 2], relevant: [true, false] }])
    expect(r).toEqual({ map: 0.5, mrr: 0.5, instances: 1, skipped: 2 })
  })
})

describe("logistic regression (scikit-learn's LogisticRegression, lbfgs, C = 1)", () => {
  it.each(["logreg_multiclass", "logreg_binary"])("%s: converged weights, probabilities and predictions match", (name) => {
    const ref = sk[name]
    const x = fromRows(ref.x)
    const model = fitLogisticRegression(x, ref.y, ref.classes, { maxIter: 2000, tol: 1e-9 })
    expect(model.converged).toBe(true)
    const cols = ref.classes === 2 ? 1 : ref.classes
    // scikit-learn's coef_ is classes x dim; ours is dim x columns.
    // Products run in float32, which bounds the optimum's agreement to ~1e-4 relative.
    const near = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThan(1e-3 * Math.max(1, Math.abs(b)))
    for (let c = 0; c < cols; c++) {
      for (let j = 0; j < x.cols; j++) near(model.weights[j * cols + c]!, ref.coef[c][j])
      near(model.bias[c]!, ref.intercept[c])
    }
    const xt = fromRows(ref.x_test)
    const proba = predictProba(model, xt)
    ref.proba_test.forEach((row: Array<number>, i: number) => row.forEach((p, c) => expect(proba[i * ref.classes + c]!).toBeCloseTo(p, 3)))
    const pred = predict(model, xt)
    expect(Array.from(pred)).toEqual(ref.pred_test)
    const scores = classificationScores(ref.y_test, pred, ref.classes)
    expect(scores.accuracy).toBeCloseTo(ref.accuracy, 12)
    expect(scores.f1).toBeCloseTo(ref.f1_macro, 12)
    expect(scores.f1_weighted).toBeCloseTo(ref.f1_weighted, 12)
  })

  it.each([2, 3])("gradient matches float64 central differences (%i classes)", (classes) => {
    const x = fromRows([
      [0.3, -1.2, 0.5],
      [1.1, 0.4, -0.7],
      [-0.6, 0.9, 0.2],
      [0.05, -0.3, 1.4],
      [0.8, 0.8, -0.1]
    ])
    const y = classes === 2 ? [0, 1, 1, 0, 1] : [0, 2, 1, 0, 2]
    const cols = classes === 2 ? 1 : classes
    const params = Float64Array.from({ length: 3 * cols + cols }, (_, i) => Math.sin(i + 1) * 0.7)
    const { grad } = logisticObjective(x, y, classes, 0.5, params)
    // The logits are float32 (tensor's matmul): a step of 1e-2 keeps their rounding (~1e-7) far below
    // the truncation error of central differences (~h² = 1e-4 relative).
    const h = 1e-2
    for (let j = 0; j < params.length; j++) {
      const p = Float64Array.from(params)
      p[j] = params[j]! + h
      const up = logisticObjective(x, y, classes, 0.5, p).value
      p[j] = params[j]! - h
      const down = logisticObjective(x, y, classes, 0.5, p).value
      expect(grad[j]!).toBeCloseTo((up - down) / (2 * h), 4)
    }
  })
})

describe("MTEB undersampling", () => {
  it("at most samplesPerLabel per label, every label when it has enough, reshuffled per experiment, seeded", () => {
    const labels = Array.from({ length: 300 }, (_, i) => ["a", "b", "c"][i % 3]!)
    labels.push("rare")
    const plan = undersamplingPlan(labels, { nExperiments: 4, samplesPerLabel: 8, seed: 3 })
    expect(plan).toHaveLength(4)
    for (const idx of plan) {
      const counts: Record<string, number> = {}
      for (const i of idx) counts[labels[i]!] = (counts[labels[i]!] ?? 0) + 1
      expect(counts).toEqual({ a: 8, b: 8, c: 8, rare: 1 })
    }
    expect(Array.from(plan[0]!)).not.toEqual(Array.from(plan[1]!))
    expect(undersamplingPlan(labels, { nExperiments: 4, samplesPerLabel: 8, seed: 3 }).map((p) => Array.from(p))).toEqual(plan.map((p) => Array.from(p)))
  })
})

describe("mini-batch k-means (against scikit-learn's MiniBatchKMeans, batch_size 500)", () => {
  it("reaches scikit-learn's inertia and V-measure on overlapping blobs (mean of 5 seeds each)", () => {
    const ref = sk.kmeans
    const x = fromRows(ref.x)
    const ours = [0, 1, 2, 3, 4].map((seed) => miniBatchKMeans(x, { k: ref.k, batchSize: ref.batch_size, seed }))
    const mean = (a: Array<number>) => a.reduce((s, v) => s + v, 0) / a.length
    const skInertia = mean(ref.runs.map((r: { inertia: number }) => r.inertia))
    const skV = mean(ref.runs.map((r: { v_measure: number }) => r.v_measure))
    const ourInertia = mean(ours.map((r) => r.inertia))
    const ourV = mean(ours.map((r) => vMeasure(ref.y, r.labels).v_measure))
    expect(ourInertia / skInertia).toBeLessThan(1.04)
    expect(ourInertia / skInertia).toBeGreaterThan(0.94)
    expect(Math.abs(ourV - skV)).toBeLessThan(0.08)
  })
  it("is reproducible for a seed and finds well-separated clusters exactly", () => {
    const rows: Array<Array<number>> = []
    const truth: Array<number> = []
    for (let c = 0; c < 3; c++) for (let i = 0; i < 50; i++) {
      rows.push([c * 10 + Math.sin(i), c * -10 + Math.cos(i * 1.7)])
      truth.push(c)
    }
    const x = fromRows(rows)
    const a = miniBatchKMeans(x, { k: 3, batchSize: 32, seed: 9 })
    const b = miniBatchKMeans(x, { k: 3, batchSize: 32, seed: 9 })
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels))
    expect(vMeasure(truth, a.labels).v_measure).toBeCloseTo(1, 12)
  })
})

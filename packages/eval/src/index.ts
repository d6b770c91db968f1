import { Plugin } from "@embedflow/core"
import { retrieval, sts, table } from "./Stages.js"
import { taskStages } from "./TaskStages.js"

export { pearson, rank, spearman } from "./Correlation.js"
export { EvalError } from "./EvalError.js"
export { type AccuracyResult, choiceAccuracy, iclAccuracy, type Normalize } from "./Icl.js"
export * as Report from "./Report.js"
export * as Retrieval from "./Retrieval.js"
export { evaluateSts, type Matrix, pairwiseCosine, type StsResult } from "./Sts.js"
export { pairMatrices, retrieval, sts, table } from "./Stages.js"
export { type EvalReport, summarize } from "./Summary.js"
export { averagePrecision } from "./AveragePrecision.js"
export { classificationScores, evaluateClassification, undersamplingPlan } from "./Classification.js"
export { fitLogisticRegression, predict, predictProba } from "./LogisticRegression.js"
export { miniBatchKMeans } from "./MiniBatchKMeans.js"
export * as MtebResult from "./MtebResult.js"
export { evaluatePairClassification, evaluatePairClassificationAll, pairClassificationMetrics } from "./PairClassification.js"
export { evaluateReranking } from "./Reranking.js"
export * as Suite from "./Suite.js"
export * as Tasks from "./Tasks.js"
export { classification, clustering, embedFrom, mtebResults, pairClassification, reranking } from "./TaskStages.js"
export { vMeasure } from "./VMeasure.js"

export const plugin = Plugin.make({
  name: "eval",
  version: "0.1.0",
  description: "evaluation stages: STS correlation, ranked retrieval metrics, MTEB classification, clustering, pair classification, reranking",
  stages: [sts, retrieval, table, ...taskStages]
})

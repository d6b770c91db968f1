import { Plugin } from "@embedflow/core"
import { retrieval, sts, table } from "./Stages.js"

export { pearson, rank, spearman } from "./Correlation.js"
export { EvalError } from "./EvalError.js"
export { type AccuracyResult, choiceAccuracy, iclAccuracy, type Normalize } from "./Icl.js"
export * as Report from "./Report.js"
export * as Retrieval from "./Retrieval.js"
export { evaluateSts, type Matrix, pairwiseCosine, type StsResult } from "./Sts.js"
export { pairMatrices, retrieval, sts, table } from "./Stages.js"
export { type EvalReport, summarize } from "./Summary.js"

export const plugin = Plugin.make({
  name: "eval",
  version: "0.1.0",
  description: "evaluation stages: STS correlation, ranked retrieval metrics",
  stages: [sts, retrieval, table]
})

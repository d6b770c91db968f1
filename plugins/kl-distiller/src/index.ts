export { iclAccuracy, type IclOptions, type IclPrediction, type IclResult } from "./IclEval.js"
export { kendallTau } from "./KendallTau.js"
export * as KlDistiller from "./KlDistiller.js"
export { objective, type ObjectiveBatch, type ObjectiveOptions, type ObjectiveResult } from "./Objective.js"

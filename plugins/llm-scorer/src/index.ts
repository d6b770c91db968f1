import { Plugin } from "@embedflow/core"
import { ModelHub } from "@embedflow/models"
import { loadTask, score } from "./Stages.js"

export { type Reduction, reduceLogLikelihood, type ScoreOptions, scoreCandidates } from "./LlmScorer.js"
export { groupCandidates, loadTask, score } from "./Stages.js"
export * as Task from "./Task.js"

export const plugin = Plugin.make({
  name: "llm-scorer",
  version: "0.1.0",
  description: "LLM-R feedback: ICL task slices, and an LLM's log-likelihood of the gold output given each candidate demonstration",
  // The stages load their models through the hub: once per run, released when the run ends.
  layer: ModelHub.layer,
  stages: [loadTask, score]
})

import { Plugin } from "@embedflow/core"
import { ModelHub } from "@embedflow/models"
import { loadTask, score } from "./Stages.js"

export { type LabeledExample, type ScoreOptions, scoreCandidates } from "./LlmScorer.js"
export * as PromptTemplate from "./PromptTemplate.js"
export type { Demonstration, PromptPair } from "./PromptTemplate.js"
export {
  demonstrationText,
  ScoredCandidate,
  ScoredCandidates,
  ScoredQuery,
  sortCandidates
} from "./ScoredCandidates.js"
export { groupCandidates, loadTask, score, TemplateParam } from "./Stages.js"
export * as Task from "./Task.js"
export { LabeledExamples } from "./Task.js"

export const plugin = Plugin.make({
  name: "llm-scorer",
  version: "0.1.0",
  description: "LLM-R feedback: ICL task slices, and an LLM's log-likelihood of the gold output given each candidate demonstration",
  // The stages load their models through the hub: once per run, released when the run ends.
  layer: ModelHub.layer,
  stages: [loadTask, score]
})

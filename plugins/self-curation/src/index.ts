import { Plugin } from "@embedflow/core"
import { ModelHub } from "@embedflow/models"
import { curate } from "./Stages.js"

export { curate as applyThresholds, type CurationReport, ratePairs, type RateOptions, type Thresholds } from "./Curation.js"
export { digitTokenIds, expectedRating, SCALE } from "./DigitScore.js"
export * as RatingPrompt from "./RatingPrompt.js"
export { expectedRatingFromTop, parseRating, ratePairsWithServer, type ServerRateOptions } from "./ServerRating.js"
export { curate } from "./Stages.js"

export const plugin = Plugin.make({
  name: "self-curation",
  version: "0.1.0",
  description: "MultiCSR stage 2: LLM similarity ratings of generated pairs, thresholds keep good entailments and contradictions",
  layer: ModelHub.layer,
  stages: [curate]
})

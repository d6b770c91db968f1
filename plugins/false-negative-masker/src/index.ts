import { Plugin } from "@embedflow/core"
import { ModelHub } from "@embedflow/models"
import { mask } from "./Stages.js"

export { type BatchOptions, batchTexts, makeBatches, maskBatches, type MaskBatchesOptions, type MaskReport } from "./Masker.js"
export { maskFalseNegatives, type MaskMode, type MaskOptions } from "./MaskRule.js"
export { mask } from "./Stages.js"

export const plugin = Plugin.make({
  name: "false-negative-masker",
  version: "0.1.0",
  description: "MultiCSR stage 3: training batches with in-batch false negatives masked by a teacher encoder",
  layer: ModelHub.layer,
  stages: [mask]
})

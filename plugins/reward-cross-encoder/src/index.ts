import { Plugin } from "@embedflow/core"
import { ModelHub } from "@embedflow/models"
import { score, train } from "./Stages.js"

export { type CrossEncoderOptions, groupListwiseLoss, loadCrossEncoder, trainCrossEncoder } from "./CrossEncoderTraining.js"
export * as RewardModel from "./RewardModel.js"
export * as RewardModelFolder from "./RewardModelFolder.js"
export { score, train } from "./Stages.js"

export const plugin = Plugin.make({
  name: "reward-cross-encoder",
  version: "0.1.0",
  description: "LLM-R reward model: trains a scoring head over a frozen encoder's pair embedding on LLM-scored candidates, and rescores candidates",
  // The stages load their models through the hub: once per run, released when the run ends.
  layer: ModelHub.layer,
  stages: [train, score]
})

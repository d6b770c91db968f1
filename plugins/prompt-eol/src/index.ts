import { Plugin } from "@embedflow/core"
import { ModelHub } from "@embedflow/models"
import { selectDemonstration } from "./SelectDemonstrationStage.js"
import { finetune } from "./FineTuneStage.js"
import { embed } from "./Stages.js"

export {
  buildTemplate,
  DEFAULT_DEMONSTRATION_END,
  type Demonstration,
  makePromptEolEncoder,
  type PromptEolEncoder,
  type PromptEolEncoderConfig,
  PromptEolError,
  type PromptOptions,
  promptEolTemplate,
  renderPrompt
} from "./PromptEol.js"
export { DemonstrationParam, embed } from "./Stages.js"
export { type DevPair, Demonstrations, type RankedDemonstration, rankDemonstrations } from "./DemonstrationSelection.js"
export { selectDemonstration } from "./SelectDemonstrationStage.js"
export { fineTunePromptEol, type FineTuneOptions, type FineTuneResult } from "./FineTune.js"
export { finetune } from "./FineTuneStage.js"

export const plugin = Plugin.make({
  name: "prompt-eol",
  version: "0.1.0",
  description: "PromptEOL sentence embeddings from a causal LM, with optional in-context demonstrations",
  // The model is loaded through the hub: once per run, released when the run ends.
  layer: ModelHub.layer,
  stages: [embed, selectDemonstration, finetune]
})

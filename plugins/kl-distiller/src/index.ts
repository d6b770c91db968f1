import { Plugin } from "@embedflow/core"
import { ModelHub } from "@embedflow/models"
import { distill, iclEval, retrieve } from "./Stages.js"

export { type BackboneDistillOptions, type BackboneDistillResult, distillBackbone } from "./BackboneDistill.js"
export { clusterPool, type DiverseSelection, diverseDemonstrations } from "./DiverseDemonstrations.js"
export { evaluateIcl, type IclOptions, type IclPrediction, type IclResult } from "./IclEval.js"
export { kendallTau } from "./KendallTau.js"
export * as KlDistiller from "./KlDistiller.js"
export { objective, type ObjectiveBatch, type ObjectiveOptions, type ObjectiveResult } from "./Objective.js"
export * as RetrieverFolder from "./RetrieverFolder.js"
export { mergeRounds } from "./Rounds.js"
export { distill, iclEval, retrieve } from "./Stages.js"

export const plugin = Plugin.make({
  name: "kl-distiller",
  version: "0.1.0",
  description: "LLM-R retriever: KL distillation of the reward model into a bi-encoder (a head, the whole backbone or LoRA; + InfoNCE), accumulated over rounds, retrieval for iterative rounds, ICL evaluation",
  // The stages load their models through the hub: once per run, released when the run ends.
  layer: ModelHub.layer,
  stages: [distill, retrieve, iclEval]
})

import { Plugin } from "@embedflow/core"
import { ModelHub } from "@embedflow/models"
import { generate, loadPremises } from "./Stages.js"

export { decodeContrastive, type DecodeJob, type DecodeOptions, type FinishReason, type Generation, sequenceSeed } from "./ContrastiveDecoding.js"
export { type GeneratedPair, type GenerateOptions, generatePairs, toTriple } from "./Generator.js"
export * as Instructions from "./Instructions.js"
export { combineLogits } from "./Logits.js"
export { argmax, makeSampler, type SamplingOptions } from "./Sampling.js"
export { parsePremises } from "./Premises.js"
export { defaultSampling, generate, InstructionsParam, loadPremises } from "./Stages.js"

export const plugin = Plugin.make({
  name: "contrastive-decoding",
  version: "0.1.0",
  description: "MultiCSR stage 1: entailments and contradictions of premises by instructive decoding over raw logits",
  layer: ModelHub.layer,
  stages: [loadPremises, generate]
})

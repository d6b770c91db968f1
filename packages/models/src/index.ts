import { Plugin } from "@embedflow/core"
import { ModelHub } from "./ModelHub.js"
import { embed } from "./Stages.js"

export {
  CausalLM,
  type CausalLMOptions,
  type CausalLMShape,
  type Decoder,
  type GenerateOptions,
  layerCausalLM,
  type LogLikelihood,
  makeCausalLM
} from "./CausalLM.js"
export { CrossEncoder, type CrossEncoderOptions, type CrossEncoderShape, layerCrossEncoder, makeCrossEncoder } from "./CrossEncoder.js"
export {
  Encoder,
  type EncoderConfig,
  encoderConfig,
  type EncoderShape,
  layerEncoder,
  makeEncoder,
  type Pooling,
  promptEolTemplate,
  type TokenizedText
} from "./Encoder.js"
export {
  EXPORTED_ONNX_FILE,
  type ExportedEncoder,
  type ExportedEncoderConfig,
  exportEncoder,
  type ExportEncoderOptions
} from "./ExportEncoder.js"
export {
  layerEmbeddingModel,
  layerLanguageModel,
  type LanguageModelOptions,
  makeEmbeddingModel,
  makeLanguageModel,
  promptText
} from "./EffectAi.js"
export { BACKBONE_FILE, BackboneTuner, type BackboneTunerOptions, type SequenceGroup, type TuningMode, type TuningSettings } from "./BackboneTuner.js"
export * as EmbeddingCache from "./EmbeddingCache.js"
export { ModelError } from "./ModelError.js"
export { layerModelHub, makeModelHub, ModelHub, type ModelHubOptions, type ModelHubShape } from "./ModelHub.js"
export {
  layerOpenAiCausalLM,
  makeOpenAiCausalLM,
  OpenAiCausalLM,
  type OpenAiCausalLMOptions,
  type OpenAiCausalLMShape,
  type TopLogprob
} from "./OpenAiCausalLM.js"
export { type LoadOptions, resolveModel, type ResolvedModel } from "./ModelSource.js"
export { embed} from "./Stages.js"
export { readTokenBags, type TokenBagsOptions } from "./TokenBags.js"
export * as HeadFolder from "./HeadFolder.js"
export * as PromptTemplate from "./PromptTemplate.js"
export type { Demonstration, PromptPair } from "./PromptTemplate.js"

export const plugin = Plugin.make({
  name: "models",
  version: "0.1.0",
  description: "encoder inference stages over local model folders (or hub ids)",
  stages: [embed],
  layer: ModelHub.layer
})
export { type CardEvaluation, MODEL_CARD_FILE, type ModelCard, readModelCard, renderModelCard, writeModelCard } from "./ModelCard.js"
export {
  type LayoutPooling,
  readSentenceTransformersLayout,
  type SentenceTransformersLayout,
  sentenceTransformersFiles
} from "./SentenceTransformersLayout.js"

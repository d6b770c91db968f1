/**
 * @embedflow/tensor: training heads on cached embeddings in pure TypeScript over Float32Array.
 */
export { assertShape, clone, concatRows, fromRows, gatherRows, type Matrix, matrix, row, sliceRows, toRows, transpose, zeros } from "./Matrix.js"
export { matmul, matmulABt, matmulAtB, type MatmulOptions } from "./Matmul.js"
export {
  type AdamwConstants, type Backend, type BackendName, type BatchedSgemmArgs, getBackend, loadNativeBackend, setBackend, type SgemmArgs, tsBackend
} from "./Backend.js"
export { logSoftmaxBackward, logSoftmaxRows, softmaxBackward, softmaxRows } from "./Softmax.js"
export { type L2Normalized, l2Normalize, l2NormalizeBackward } from "./Normalize.js"
export { type CosineMatrix, cosineMatrix, cosineMatrixBackward } from "./Cosine.js"
export { Rng } from "./Rng.js"
export {
  type Activation, type Head, type HeadGraph, type HeadJson, type HeadKind, type HeadStep, type Parameter, type TensorJson
} from "./Head.js"
export { Linear, type LinearInit, type LinearOptions } from "./Linear.js"
export { LowRankResidualAdapter, type LowRankResidualAdapterOptions } from "./LowRankResidualAdapter.js"
export { Mlp, type MlpOptions } from "./Mlp.js"
export { headFromJSON, HeadJsonSchema } from "./HeadJson.js"
export { type LossResult } from "./Loss.js"
export { infoNce, type InfoNceOptions, type InfoNceResult } from "./InfoNce.js"
export { klDivergence, type KlDivergenceOptions } from "./Distillation.js"
export { listwiseCrossEntropy, type ListwiseOptions } from "./Listwise.js"
export {
  type EmbeddingPairBatch, embeddingPairLoss, type EmbeddingPairOptions, type EmbeddingPairStep, type PairInfoNce, pairInfoNce
} from "./EmbeddingPairLoss.js"
export { AdamW, type AdamWOptions } from "./AdamW.js"
export { type TrainingTools, trainingTools } from "./TrainingTools.js"
export { learningRateSchedule, type ScheduleOptions } from "./Schedule.js"
export { clipGradNorm, globalGradNorm } from "./GradClip.js"
export { EarlyStopping, type EarlyStoppingOptions } from "./EarlyStopping.js"
export { assertFinite, NonFiniteError } from "./NonFinite.js"
export { headToOnnx, type HeadToOnnxOptions } from "./OnnxExport.js"
export {
  PrincipalComponents,
  type PrincipalComponentsJson,
  type PrincipalComponentsOptions,
  removePrincipalComponents
} from "./PrincipalComponents.js"
export { bagCount, gatherBags, type TokenBags, TokenDelta, type TokenDeltaJson } from "./TokenDelta.js"
// Transformer layers with analytic backward (src/nn/): encoders, decoders, LoRA, GradCache, ONNX weights.
export { type ForwardContext, type Module, EVAL, parameter } from "./nn/Module.js"
export { type PadOptions, padBatch, sliceBatch, type TokenBatch } from "./nn/TokenBatch.js"
export { Embedding } from "./nn/Embedding.js"
export { Dense } from "./nn/Dense.js"
export { LayerNorm } from "./nn/LayerNorm.js"
export { ActivationLayer, activationFromConfig, type ActivationKind } from "./nn/Activation.js"
export { Dropout } from "./nn/Dropout.js"
export { type AttentionMasks, type AttentionShape, MultiHeadAttention } from "./nn/Attention.js"
export { accumulateInto, addResidual } from "./nn/Residual.js"
export { Pooling, type PoolingKind } from "./nn/Pooling.js"
export { BertEncoder, type BertConfig } from "./nn/BertEncoder.js"
export { type DecoderConfig, Gpt2Decoder, type LanguageModelLoss } from "./nn/Gpt2Decoder.js"
export { addLora, LoraAdapter, type LoraOptions, type LoraTargets, mergeLora } from "./nn/Lora.js"
export { type Embedder, SentenceEmbedder, type SentenceEmbedderOptions, type TokenEncoder } from "./nn/SentenceEmbedder.js"
export { cachedInfoNce, type CachedInfoNceOptions, gradCachedStep, type GradCacheOptions, type GroupLoss } from "./nn/GradCache.js"
export {
  checkOnnxModel, exportOnnxModel, type LoadedOnnxModel, loadOnnxModel, loadOnnxModelBytes, type OnnxArchitecture, saveOnnxModelFolder
} from "./nn/OnnxWeights.js"

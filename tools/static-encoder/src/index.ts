/**
 * @embedflow/static-encoder: GloVe 6B 100-d as a real-format static encoder (tokenizer.json + ONNX),
 * SIF weights, and fittable principal-component removal.
 */
export { defaultVectorsFile, type GloveVectors, loadGloveVectors, type LoadOptions, parseGloveVectors, WinkFormatError } from "./GloveVectors.js"
export { TOKEN_PATTERN, tokenize, tokenizerJsonPipeline } from "./Tokenizer.js"
export { DEFAULT_SIF_A, sifWeights } from "./Sif.js"
export { averageWordVectors, type WordAverageOptions } from "./WordAverage.js"
export {
  PrincipalComponents,
  type PrincipalComponentsJson,
  type PrincipalComponentsOptions,
  removePrincipalComponents
} from "@embedflow/tensor"
export {
  embeddingTable,
  PAD_ID,
  SPECIAL_TOKENS,
  staticEncoderOnnx,
  type StaticEncoderOnnxInput,
  UNK_ID,
  type Variant
} from "./StaticEncoderOnnx.js"
export {
  buildStaticEncoder,
  type BuildOptions,
  type BuildResult,
  defaultModelDir,
  FORMAT_VERSION,
  MODEL_FILES,
  modelConfig,
  ONNX_FILES,
  STAMP_FILE,
  tokenizerConfig,
  tokenizerJson,
  writeModelFiles
} from "./StaticEncoder.js"

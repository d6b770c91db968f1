/**
 * @embedflow/tiny-models: deterministic tiny Hugging Face-format models for tests.
 */
export { bytesToUnicode, type ByteLevelBpe, END_OF_TEXT, gpt2TokenizerJson, trainByteLevelBpe } from "./ByteLevelBpe.js"
export { type Corpus, defaultDataDir, loadCorpus } from "./Corpus.js"
export { makeRng, normalArray, type Rng } from "./Rng.js"
export { type BertConfig, bertClassifierWeights, bertHfConfig, bertOnnx, bertWeights, tinyBertConfig } from "./TinyBert.js"
export { type Gpt2Config, gpt2HfConfig, gpt2Onnx, gpt2PromptFeeds, gpt2Weights, type TensorFactory, tinyGpt2Config } from "./TinyGpt2.js"
export {
  BERT_VOCAB_SIZE,
  buildTinyModels,
  type BuiltModel,
  defaultOutDir,
  GPT2_VOCAB_SIZE,
  modelFiles,
  TINY_MODEL_NAMES,
  type TinyModelName,
  type TinyModelsOptions
} from "./TinyModels.js"
export { basicTokenize, BERT_SPECIAL_TOKENS, bertTokenizerJson, buildWordPieceVocab } from "./WordPieceTokenizer.js"
export type { Weights } from "./internal/graph.js"
export {
  BENCH_MODEL_NAMES, type BenchModelName, type BenchModelOptions, buildBenchModel, defaultBenchDir, gpt2SmallConfig, minilmL6Config
} from "./BenchModels.js"

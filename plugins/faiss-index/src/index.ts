/**
 * @embedflow/faiss-index: faiss vector indexes over Float32Array batches with string ids,
 * tunable search parameters, atomic save/load and shard merge; exact search on onnxruntime
 * as ground truth. The native addon is built by `bash tools/faiss-build/build.sh`.
 */
export { FaissIndexError, type FaissIndexErrorReason } from "./FaissIndexError.js"
export { type FactoryString, type IndexKind, type Metric, minTrainingRows, nativeDescription, needsTraining, parseFactory } from "./IndexFactory.js"
export {
  FaissIndex,
  type FaissIndexOptions,
  IDS_FILE,
  INDEX_FILE,
  META_FILE,
  type SearchParams,
  type SearchResult,
  type VectorBatch,
  setNumThreads
} from "./FaissIndex.js"
export { type ExactResult, ExactSearch, type ExactSearchOptions } from "./ExactSearch.js"
export { recallAtK } from "./Recall.js"
export { randomUnitVectors } from "./RandomVectors.js"
export { build, exactSearch, FaissIndexFolder, plugin, search } from "./Stages.js"

import { Plugin } from "@embedflow/core"
import { build, exactSearch, search } from "./Stages.js"

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
export { build, exactSearch, FaissIndexFolder, search } from "./Stages.js"

export const plugin = Plugin.make({
  name: "faiss-index",
  version: "0.1.0",
  description: "faiss vector indexes (Flat/IVF/HNSW/IVF-PQ) with tunable search parameters, and exact search on onnxruntime",
  stages: [build, search, exactSearch]
})

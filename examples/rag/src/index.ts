import { Plugin } from "@embedflow/core"
import { chunk } from "./Stages.js"

export { type Chunk, chunkDocument, type ChunkOptions, chunkSpans, checkChunkOptions, defaultChunkOptions } from "./Chunker.js"
export { ChunkIndex, type EncoderSpec, exactTopK, type Hit, type IndexKind, type IndexMeta } from "./ChunkIndex.js"
export { type Corpus, DOCUMENT_EXTENSIONS, type Document, readCorpus, type Skipped } from "./Corpus.js"
export { buildPrompt, citedNumbers, INSTRUCTIONS } from "./Prompt.js"
export {
  type Answer,
  defaultEncoderModel,
  defaultIndexDir,
  defaultLocalLM,
  ingest,
  type IngestOptions,
  type IngestReport,
  type LmSpec,
  makeRag,
  type Rag,
  type RagOptions,
  type Source
} from "./Rag.js"
export { RagError, type RagErrorReason } from "./RagError.js"
export { MAX_BODY_BYTES, type RunningServer, SECURITY_HEADERS, type ServerOptions, startServer } from "./Server.js"
export { chunk } from "./Stages.js"

export const plugin = Plugin.make({
  name: "rag",
  version: "0.1.0",
  description: "retrieval-augmented generation helpers: text chunking",
  stages: [chunk]
})

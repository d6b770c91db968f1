import { Data } from "effect"

export type RagErrorReason = "EmptyCorpus" | "BadInput" | "NoIndex" | "Model" | "Index"

/** What went wrong in ingest/ask; `message` names the input and what was expected. */
export class RagError extends Data.TaggedError("RagError")<{
  readonly reason: RagErrorReason
  readonly message: string
  readonly cause?: unknown
}> {}

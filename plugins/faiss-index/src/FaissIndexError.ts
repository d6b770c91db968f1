import { Data } from "effect"

export type FaissIndexErrorReason =
  | "DimensionMismatch"
  | "EmptyCorpus"
  | "NotTrained"
  | "BadFactory"
  | "BadArgument"
  | "DuplicateId"
  | "Incompatible"
  | "Corrupt"
  | "Io"
  | "Native"
  | "Unavailable"

/** Every failure of @embedflow/faiss-index: `reason` for programs, `message` says what and what was expected. */
export class FaissIndexError extends Data.TaggedError("FaissIndexError")<{
  readonly reason: FaissIndexErrorReason
  readonly message: string
  readonly cause?: unknown
}> {}

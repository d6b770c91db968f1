import { Data } from "effect"

/** A stage failed for a reason it can explain (bad data, a model that would not load, a NaN loss). */
export class StageError extends Data.TaggedError("StageError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

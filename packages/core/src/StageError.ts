import { Data } from "effect"

/** A stage failed for a reason it can explain (bad data, a model that would not load, a NaN loss). */
export class StageError extends Data.TaggedError("StageError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * What a stage may fail with: a StageError, a tagged error of the packages it uses (a data loader's
 * DataReadError, a model's ModelError, a SchemaError), or a plain Error — anything that says what
 * went wrong in its `message`, which is what the runner reports for the node.
 */
export interface StageFailure {
  readonly message: string
}

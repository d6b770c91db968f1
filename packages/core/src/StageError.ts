import { Data } from "effect"

/** A stage failed for a reason it can explain (bad data, a model that would not load, a NaN loss). */
export class StageError extends Data.TaggedError("StageError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * What a stage may fail with: a StageError, or any tagged error of the packages it uses (a data
 * loader's DataReadError, a model's ModelLoadError, a SchemaError) — each names itself and says what
 * went wrong, which is what the runner reports.
 */
export interface StageFailure {
  readonly _tag: string
  readonly message: string
}

import { Data } from "effect"

/** Evaluation inputs that do not fit together (lengths, dimensions, missing ids) or a report that could not be written. */
export class EvalError extends Data.TaggedError("EvalError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

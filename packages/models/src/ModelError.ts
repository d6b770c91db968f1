import { Data } from "effect"

/** A model could not be loaded or run. `file` names the missing or broken file when there is one. */
export class ModelError extends Data.TaggedError("ModelError")<{
  readonly message: string
  readonly model?: string | undefined
  readonly file?: string | undefined
  readonly cause?: unknown
}> {}

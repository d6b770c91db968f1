/** Failing fast, with the step number, when training diverges. */
import { Data } from "effect"

export class NonFiniteError extends Data.TaggedError("NonFiniteError")<{
  readonly message: string
  readonly step: number
  readonly what: string
  readonly value: number
}> {}

/** Throws NonFiniteError ("loss is NaN at step 12") unless `value` is finite. Returns the value. */
export const assertFinite = (value: number, step: number, what = "loss"): number => {
  if (!Number.isFinite(value)) {
    throw new NonFiniteError({ message: `${what} is ${value} at step ${step}`, step, what, value })
  }
  return value
}

import { Cause, Schema } from "effect"
import { StageError } from "../StageError.js"

/** The message a failure carries: a StageError's, a SchemaError's, an Error's, or the value as text. */
export const messageOf = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  if (error instanceof StageError) return error.message
  if (Schema.isSchemaError(error)) return error.message
  if (error instanceof Error) return error.message || error.name
  return typeof error === "object" && error && "message" in error ? String(error.message) : String(error)
}

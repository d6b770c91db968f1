import { Effect, Schema } from "effect"

/** A param a graph may leave out; decoded to `value` then (so the stage sees no undefined). */
export const withDefault = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

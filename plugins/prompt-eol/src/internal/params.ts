import { Effect, Schema } from "effect"

/** A param that may be left out of a graph file, decoded to `value` then (the decoded type is not optional). */
export const withDefault = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

export const PositiveInt = Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))

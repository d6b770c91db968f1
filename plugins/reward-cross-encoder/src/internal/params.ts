import { Effect, Schema } from "effect"

/**
 * A param that may be left out of a graph file, decoded to `value` then. Unlike core's
 * `Params.withDefault`, the decoded type is not optional, so stages need no second default.
 */
export const withDefault = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

export const PositiveInt = Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))
export const PositiveNumber = Schema.Number.pipe(Schema.check(Schema.isGreaterThan(0)))

import { Effect, Schema } from "effect"

/**
 * A param that may be left out of a graph file; `value` is used then. The default is part of the
 * decoded params, so it is part of the cache key too: changing a default recomputes the stage.
 */
export const withDefault = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

/** A documented param: `describe(Schema.Number, "BM25 term saturation")`. */
export const describe = <S extends Schema.Top>(schema: S, description: string): S["Rebuild"] =>
  schema.annotate({ description }) as S["Rebuild"]

/** Common numeric params. */
export const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0))
export const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
export const PositiveNumber = Schema.Number.check(Schema.isGreaterThan(0))
export const NonNegative = Schema.Number.check(Schema.isGreaterThanOrEqualTo(0))
/** In (0, 1]. */
export const Probability = Schema.Number.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1))

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

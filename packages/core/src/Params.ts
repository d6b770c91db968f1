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

/** The annotation that marks a param as naming a file or folder the stage reads. */
export const pathAnnotation = "embedflowPath"

/**
 * A param naming a file the stage reads (relative to the graph file). The file's content, not only
 * its name, goes into the node's cache key: edit the file and the node recomputes.
 */
export const filePath = (description = "a file, relative to the graph file") =>
  Schema.String.annotate({ description, [pathAnnotation]: "file" } as Schema.Annotations.Annotations)

/**
 * A param naming a folder the stage reads (a model folder, a data folder). Every file under it goes
 * into the node's cache key. A name that is not a local path (a hub id) is keyed by the name alone.
 */
export const folderPath = (description = "a folder, relative to the graph file") =>
  Schema.String.annotate({ description, [pathAnnotation]: "folder" } as Schema.Annotations.Annotations)

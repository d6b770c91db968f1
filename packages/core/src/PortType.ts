import { Schema } from "effect"
import * as Format from "./ArtifactFormat.js"

/**
 * The type of a value that flows along a graph edge. Two ports connect when their type names are
 * equal; the schema describes (and, for records and JSON, validates) the value; the format says how
 * it is stored in the artifact cache.
 */
export interface PortType<A> {
  readonly name: string
  readonly description: string
  readonly format: Format.ArtifactFormat<A>
  /** Checks a value produced by a stage before it is stored; returns a message when it is wrong. */
  readonly check: (value: unknown) => string | undefined
  /** Set on list ports (`PortType.list`): the type of each connected output. */
  readonly element?: PortType<any> | undefined
}

export type PortValue<P> = P extends PortType<infer A> ? A : never

const describeFailure = (schema: Schema.Top, value: unknown): string | undefined => {
  const result = Schema.decodeUnknownExit(Schema.toType(schema as Schema.Codec<unknown>))(value, { errors: "first" })
  return result._tag === "Success" ? undefined : String(result.cause)
}

/** A list of records stored as JSON Lines. */
export const records = <S extends Schema.Codec<any, any>>(
  name: string,
  item: S,
  description = ""
): PortType<ReadonlyArray<S["Type"]>> => ({
  name,
  description,
  format: Format.records(item),
  check: (value) => {
    if (!Array.isArray(value)) return `expected an array of ${name} records, got ${typeof value}`
    // Checking a sample keeps the cost constant for large outputs while still catching a wrong shape.
    const sample = value.length <= 64 ? value : [value[0], value[value.length >> 1], value[value.length - 1]]
    for (const r of sample) {
      const problem = describeFailure(item, r)
      if (problem) return problem
    }
    return undefined
  }
})

/** One JSON value (a report, a small config, metrics). */
export const json = <S extends Schema.Codec<any, any>>(name: string, schema: S, description = ""): PortType<S["Type"]> => ({
  name,
  description,
  format: Format.json(schema),
  check: (value) => {
    const problem = describeFailure(schema, value)
    if (problem) return problem
    // What the store will write: a value JSON cannot hold (NaN, a function) is caught here, by port name.
    const encoded = Schema.encodeUnknownExit(Schema.toCodecJson(schema as Schema.Codec<unknown>))(Format.omitUndefined(value))
    return encoded._tag === "Success" ? undefined : String(encoded.cause)
  }
})

/** A float32 matrix of row vectors with optional ids. */
export const vectors = (name: string, description = ""): PortType<Format.Vectors> => ({
  name,
  description,
  format: Format.vectors,
  check: (value) => {
    const v = value as Format.Vectors
    if (!v || !(v.data instanceof Float32Array)) return "expected { dim, count, data: Float32Array }"
    if (v.data.length !== v.dim * v.count) return `data has ${v.data.length} floats, expected ${v.count}x${v.dim}`
    if (v.ids && v.ids.length !== v.count) return `ids has ${v.ids.length} entries, expected ${v.count}`
    return undefined
  }
})

/** A folder produced by a stage (a model, an index). */
export const directory = (name: string, description = ""): PortType<Format.DirectoryRef> => ({
  name,
  description,
  format: Format.directory,
  check: (value) =>
    value && typeof (value as Format.DirectoryRef).path === "string" ? undefined : "expected { path: string }"
})

/**
 * A fan-in input: a graph connects it to a list of outputs of the element type
 * (`inputs: { reports: [a.report, b.report] }`), and the stage receives their values in that order.
 * Only valid as an input.
 */
export const list = <A>(element: PortType<A>): PortType<ReadonlyArray<A>> => ({
  name: `List<${element.name}>`,
  description: `a list of ${element.name}`,
  format: {
    kind: "json",
    write: () => Promise.reject(new Error(`a List<${element.name}> port can only be an input`)),
    read: () => Promise.reject(new Error(`a List<${element.name}> port can only be an input`))
  },
  check: (value) => (Array.isArray(value) ? undefined : "expected an array"),
  element
})

/**
 * Node attributes: explicit constructors (`Attr.float(1)`) and the inference rules used when a
 * builder call passes a bare JS value.
 */
import type { AttributeValue, GraphProto, TensorProto } from "./Proto.js"

export const Attr = {
  float: (value: number): AttributeValue => ({ type: "float", value }),
  int: (value: number | bigint): AttributeValue => ({ type: "int", value }),
  string: (value: string): AttributeValue => ({ type: "string", value }),
  floats: (value: ArrayLike<number>): AttributeValue => ({ type: "floats", value }),
  ints: (value: ReadonlyArray<number | bigint>): AttributeValue => ({ type: "ints", value }),
  strings: (value: ReadonlyArray<string>): AttributeValue => ({ type: "strings", value }),
  tensor: (value: TensorProto): AttributeValue => ({ type: "tensor", value }),
  graph: (value: GraphProto): AttributeValue => ({ type: "graph", value })
} as const

/**
 * What a builder accepts as an attribute. Bare values are inferred: an integral number (or bigint,
 * or boolean) is INT, any other number FLOAT, an array of integers INTS, other number arrays and
 * Float32Array FLOATS, string arrays STRINGS, a TensorProto TENSOR. Use `Attr.float(1)` where a
 * FLOAT attribute happens to hold an integral value.
 */
export type AttrInput =
  | AttributeValue
  | TensorProto
  | number
  | bigint
  | boolean
  | string
  | Float32Array
  | ReadonlyArray<number>
  | ReadonlyArray<bigint>
  | ReadonlyArray<string>

const ATTRIBUTE_TYPES = new Set(["float", "int", "string", "tensor", "graph", "floats", "ints", "strings"])

const isAttributeValue = (v: object): v is AttributeValue =>
  "type" in v && "value" in v && typeof v.type === "string" && ATTRIBUTE_TYPES.has(v.type)

const isTensorProto = (v: object): v is TensorProto => "dataType" in v && "dims" in v && "data" in v

export const toAttributeValue = (name: string, v: AttrInput): AttributeValue => {
  switch (typeof v) {
    case "number":
      return Number.isInteger(v) ? { type: "int", value: v } : { type: "float", value: v }
    case "bigint":
      return { type: "int", value: v }
    case "boolean":
      return { type: "int", value: v ? 1 : 0 }
    case "string":
      return { type: "string", value: v }
  }
  if (v instanceof Float32Array) return { type: "floats", value: v }
  if (Array.isArray(v)) {
    const arr = v as ReadonlyArray<unknown>
    if (arr.every((x) => typeof x === "string")) return { type: "strings", value: arr as ReadonlyArray<string> }
    if (arr.every((x) => typeof x === "bigint" || (typeof x === "number" && Number.isInteger(x)))) {
      return { type: "ints", value: arr as ReadonlyArray<number | bigint> }
    }
    if (arr.every((x) => typeof x === "number")) return { type: "floats", value: arr as ReadonlyArray<number> }
    throw new TypeError(`attribute "${name}": arrays must hold only numbers, only bigints or only strings`)
  }
  if (typeof v === "object" && v !== null) {
    if (isAttributeValue(v)) return v
    if (isTensorProto(v)) return { type: "tensor", value: v }
  }
  throw new TypeError(`attribute "${name}": unsupported value ${String(v)}; use Attr.float/int/string/floats/ints/strings/tensor`)
}

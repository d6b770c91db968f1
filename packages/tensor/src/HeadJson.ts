/** Loading any head from its JSON form (the inverse of `head.toJSON()`), and its Schema for ports. */
import { Schema } from "effect"
import { type Head, type HeadJson } from "./Head.js"
import { Linear } from "./Linear.js"
import { LowRankResidualAdapter } from "./LowRankResidualAdapter.js"
import { Mlp } from "./Mlp.js"

/**
 * The shape of `HeadJson` as an Effect Schema, e.g. for a stage port
 * (`PortType.json("Head", HeadJsonSchema)`). Structure only: `headFromJSON` checks dims, names and shapes.
 */
export const HeadJsonSchema = Schema.Struct({
  format: Schema.Literal("embedflow.head/v1"),
  kind: Schema.Literals(["linear", "low-rank-residual", "mlp"]),
  config: Schema.Record(Schema.String, Schema.Union([Schema.Number, Schema.String, Schema.Boolean])),
  weights: Schema.Record(
    Schema.String,
    Schema.Struct({ shape: Schema.Array(Schema.Number), dtype: Schema.Literal("float32"), base64: Schema.String })
  )
})

/** Rebuilds a head from `toJSON()` output (or its `JSON.parse`d text), checking format, kind, names and shapes. */
export const headFromJSON = (json: unknown): Head => {
  if (typeof json !== "object" || json === null) throw new TypeError(`headFromJSON: expected an object, got ${json === null ? "null" : typeof json}`)
  const j = json as Partial<HeadJson>
  if (j.format !== "embedflow.head/v1") {
    throw new RangeError(`headFromJSON: format is ${JSON.stringify(j.format)}, expected "embedflow.head/v1"`)
  }
  if (typeof j.config !== "object" || j.config === null) throw new RangeError("headFromJSON: missing config object")
  if (typeof j.weights !== "object" || j.weights === null) throw new RangeError("headFromJSON: missing weights object")
  const valid = j as HeadJson
  switch (valid.kind) {
    case "linear":
      return Linear.fromJSON(valid)
    case "low-rank-residual":
      return LowRankResidualAdapter.fromJSON(valid)
    case "mlp":
      return Mlp.fromJSON(valid)
    default:
      throw new RangeError(`headFromJSON: unknown kind ${JSON.stringify(valid.kind)}, expected "linear", "low-rank-residual" or "mlp"`)
  }
}

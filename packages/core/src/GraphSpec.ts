import { Schema } from "effect"

/** `nodeId.port`: where an input comes from. */
export const PortRef = Schema.String.pipe(
  Schema.check(Schema.isPattern(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, { expected: "a 'nodeId.port' reference" }))
)

export const NodeSpec = Schema.Struct({
  id: Schema.String.pipe(
    Schema.check(Schema.isPattern(/^[A-Za-z0-9_-]+$/, { expected: "an id of letters, digits, '_' or '-'" }))
  ),
  stage: Schema.String,
  params: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  /** A port reference, or a list of them for a fan-in (List) input. */
  inputs: Schema.optionalKey(Schema.Record(Schema.String, Schema.Union([PortRef, Schema.Array(PortRef)])))
})
export type NodeSpec = typeof NodeSpec.Type

/** An experiment graph as written in a YAML, JSON or TypeScript file. */
export const GraphSpec = Schema.Struct({
  name: Schema.String,
  description: Schema.optionalKey(Schema.String),
  /** Every random choice in the run derives from this seed. */
  seed: Schema.optionalKey(Schema.Int),
  /** Extra plugin modules (package names or paths relative to the graph file). */
  plugins: Schema.optionalKey(Schema.Array(Schema.String)),
  nodes: Schema.Array(NodeSpec)
})
export type GraphSpec = typeof GraphSpec.Type

/**
 * Extending an existing serialized ONNX model without re-encoding it.
 *
 * Protobuf merges a repeated occurrence of a singular message field into the first one, and
 * appends repeated fields. So a ModelProto whose `graph` holds only new nodes, initializers and
 * outputs, appended to the original bytes, yields the original graph plus those: a backbone of
 * any size gains pooling + a head (or an extra output) at the cost of one buffer concatenation,
 * or none when the suffix is appended to a copy of the file.
 */
import { GraphBuilder } from "./GraphBuilder.js"
import { fields, text } from "./internal/reader.js"
import { type DataType, DataTypeCode, type Dim, encodeModelSuffix, type GraphExtensionProto, type OperatorSetId } from "./Proto.js"

export interface ValueSummary {
  readonly name: string
  /** ONNX elem_type code (0 when absent). */
  readonly elemType: number
  /** undefined for element types this package does not write (e.g. string, bfloat16). */
  readonly dataType: DataType | undefined
  /** undefined: unknown rank. Dims: number, symbolic name, or null (unknown). */
  readonly shape: ReadonlyArray<Dim> | undefined
}

export interface NodeSummary {
  readonly name: string
  readonly opType: string
  readonly domain: string
  readonly inputs: ReadonlyArray<string>
  readonly outputs: ReadonlyArray<string>
}

/** What `inspectModel` reads from a serialized model (main graph only; weights are skipped). */
export interface ModelSummary {
  readonly irVersion: number
  readonly opsetImports: ReadonlyArray<OperatorSetId>
  readonly inputs: ReadonlyArray<ValueSummary>
  readonly outputs: ReadonlyArray<ValueSummary>
  readonly initializers: ReadonlyArray<string>
  readonly nodes: ReadonlyArray<NodeSummary>
  readonly metadata: Readonly<Record<string, string>>
  /** Every name in the main graph: inputs, initializers, node outputs and node names. */
  readonly names: ReadonlySet<string>
}

const DATA_TYPE_OF_CODE = new Map<number, DataType>(Object.entries(DataTypeCode).map(([k, v]) => [v, k as DataType]))

const readValueInfo = (buf: Uint8Array, start: number, end: number): ValueSummary => {
  let name = ""
  let elemType = 0
  let shape: Array<Dim> | undefined
  for (const f of fields(buf, start, end)) {
    if (f.no === 1 && f.wire === 2) name = text(buf, f)
    else if (f.no === 2 && f.wire === 2) {
      for (const t of fields(buf, f.start, f.end)) {
        if (t.no !== 1 || t.wire !== 2) continue // TypeProto.tensor_type
        for (const tt of fields(buf, t.start, t.end)) {
          if (tt.no === 1 && tt.wire === 0) elemType = tt.value
          else if (tt.no === 2 && tt.wire === 2) {
            shape = []
            for (const d of fields(buf, tt.start, tt.end)) {
              if (d.no !== 1 || d.wire !== 2) continue
              let dim: Dim = null
              for (const x of fields(buf, d.start, d.end)) {
                if (x.no === 1 && x.wire === 0) dim = x.value
                else if (x.no === 2 && x.wire === 2) dim = text(buf, x)
              }
              shape.push(dim)
            }
          }
        }
      }
    }
  }
  return { name, elemType, dataType: DATA_TYPE_OF_CODE.get(elemType), shape }
}

const readNode = (buf: Uint8Array, start: number, end: number): NodeSummary => {
  const inputs: Array<string> = []
  const outputs: Array<string> = []
  let name = ""
  let opType = ""
  let domain = ""
  for (const f of fields(buf, start, end)) {
    if (f.wire !== 2) continue
    if (f.no === 1) inputs.push(text(buf, f))
    else if (f.no === 2) outputs.push(text(buf, f))
    else if (f.no === 3) name = text(buf, f)
    else if (f.no === 4) opType = text(buf, f)
    else if (f.no === 7) domain = text(buf, f)
  }
  return { name, opType, domain, inputs, outputs }
}

/**
 * Reads a model's structure (opsets, graph inputs/outputs with types and shapes, initializer
 * names, nodes, metadata) by scanning the protobuf; initializer payloads are skipped, not copied.
 * Models already extended (several `graph` occurrences) read as the merged graph.
 */
export const inspectModel = (model: Uint8Array): ModelSummary => {
  let irVersion = 0
  const opsets = new Map<string, number>()
  const inputs: Array<ValueSummary> = []
  const outputs: Array<ValueSummary> = []
  const initializers: Array<string> = []
  const nodes: Array<NodeSummary> = []
  const metadata: Record<string, string> = {}
  let sawGraph = false
  for (const m of fields(model)) {
    if (m.no === 1 && m.wire === 0) irVersion = m.value
    else if (m.no === 7 && m.wire === 2) {
      sawGraph = true
      for (const g of fields(model, m.start, m.end)) {
        if (g.wire !== 2) continue
        if (g.no === 1) nodes.push(readNode(model, g.start, g.end))
        else if (g.no === 5) {
          for (const t of fields(model, g.start, g.end)) if (t.no === 8 && t.wire === 2) initializers.push(text(model, t))
        } else if (g.no === 11) inputs.push(readValueInfo(model, g.start, g.end))
        else if (g.no === 12) outputs.push(readValueInfo(model, g.start, g.end))
      }
    } else if (m.no === 8 && m.wire === 2) {
      let domain = ""
      let version = 0
      for (const f of fields(model, m.start, m.end)) {
        if (f.no === 1 && f.wire === 2) domain = text(model, f)
        else if (f.no === 2 && f.wire === 0) version = f.value
      }
      opsets.set(domain === "ai.onnx" ? "" : domain, version)
    } else if (m.no === 14 && m.wire === 2) {
      let key = ""
      let value = ""
      for (const f of fields(model, m.start, m.end)) {
        if (f.no === 1 && f.wire === 2) key = text(model, f)
        else if (f.no === 2 && f.wire === 2) value = text(model, f)
      }
      metadata[key] = value
    }
  }
  if (!sawGraph) throw new Error("inspectModel: not an ONNX model (the protobuf has no graph field)")
  const names = new Set<string>()
  for (const v of inputs) names.add(v.name)
  for (const i of initializers) names.add(i)
  for (const n of nodes) {
    if (n.name !== "") names.add(n.name)
    for (const o of n.outputs) if (o !== "") names.add(o)
  }
  return {
    irVersion,
    opsetImports: [...opsets].map(([domain, version]) => ({ domain, version })),
    inputs,
    outputs,
    initializers,
    nodes,
    metadata,
    names
  }
}

/** The opset version a model imports for `domain` ("" = the default ONNX domain), if any. */
export const opsetOf = (model: ModelSummary, domain = ""): number | undefined =>
  model.opsetImports.find((o) => o.domain === (domain === "ai.onnx" ? "" : domain))?.version

/** The node of the main graph that produces `value`, if any. */
export const producerOf = (model: ModelSummary, value: string): NodeSummary | undefined =>
  model.nodes.find((n) => n.outputs.includes(value))

/**
 * A builder for an extension of `model`: its auto-generated names avoid every name of the model,
 * and `ref(name, ...)` reads the model's values (graph inputs, initializers, node outputs).
 */
export const extensionBuilder = (model: ModelSummary, name = "extension"): GraphBuilder =>
  new GraphBuilder(name, { reservedNames: model.names })

export interface ExtendOptions {
  /** Versions of domains the extension uses that the model does not import yet (default 1). */
  readonly opsets?: Readonly<Record<string, number>>
  /** Metadata entries to add; keys must be new. */
  readonly metadata?: Readonly<Record<string, string>>
}

/**
 * The bytes to append to `model` to extend it with `extension` (a builder's graph, or plain
 * nodes/initializers/inputs/outputs). Checks that every input of a new node exists (in the model
 * or the extension), that new names do not clash with the model's, that new outputs are not
 * already outputs, and that a domain the extension uses is either imported already (the new
 * nodes then run at the model's opset version: check it with `opsetOf`) or gets a new import.
 */
export const modelExtension = (
  model: Uint8Array | ModelSummary,
  extension: GraphBuilder | GraphExtensionProto,
  options: ExtendOptions = {}
): Uint8Array => {
  const base = model instanceof Uint8Array ? inspectModel(model) : model
  const ext: GraphExtensionProto = extension instanceof GraphBuilder ? extension.toGraphProto() : extension
  const where = "extendModel"
  const defined = new Set<string>()
  const define = (name: string, what: string) => {
    if (base.names.has(name)) throw new Error(`${where}: ${what} "${name}" clashes with a name already used in the model`)
    if (defined.has(name)) throw new Error(`${where}: ${what} "${name}" is defined twice in the extension`)
    defined.add(name)
  }
  for (const v of ext.inputs ?? []) define(v.name, "input")
  for (const t of ext.initializers ?? []) define(t.name ?? "", "initializer")
  for (const n of ext.nodes) {
    if (n.name !== undefined && n.name !== "") define(n.name, "node name")
    for (const o of n.outputs) if (o !== "") define(o, `output of node ${n.name ?? n.opType}`)
  }
  for (const n of ext.nodes) {
    for (const i of n.inputs) {
      if (i !== "" && !defined.has(i) && !base.names.has(i)) {
        throw new Error(
          `${where}: node ${n.name ?? n.opType} reads "${i}", which neither the model nor the extension defines ` +
            `(model inputs: ${base.inputs.map((v) => v.name).join(", ")}; outputs: ${base.outputs.map((v) => v.name).join(", ")})`
        )
      }
    }
  }
  const existingOutputs = new Set(base.outputs.map((o) => o.name))
  for (const o of ext.outputs ?? []) {
    if (existingOutputs.has(o.name)) throw new Error(`${where}: "${o.name}" is already an output of the model`)
    if (!defined.has(o.name) && !base.names.has(o.name)) throw new Error(`${where}: output "${o.name}" is not a value of the model or the extension`)
  }
  const imported = new Set(base.opsetImports.map((o) => o.domain))
  const newOpsets = new Map<string, number>()
  for (const n of ext.nodes) {
    const domain = n.domain === undefined || n.domain === "ai.onnx" ? "" : n.domain
    if (!imported.has(domain) && !newOpsets.has(domain)) newOpsets.set(domain, options.opsets?.[domain] ?? 1)
  }
  for (const key of Object.keys(options.metadata ?? {})) {
    if (Object.hasOwn(base.metadata, key)) throw new Error(`${where}: metadata key "${key}" already exists in the model`)
  }
  return encodeModelSuffix(ext, [...newOpsets].map(([domain, version]) => ({ domain, version })), options.metadata)
}

/**
 * `model` extended with new nodes, initializers and outputs (see `modelExtension`); the original
 * bytes are copied once into the result and never re-encoded, so the original graph and its
 * outputs are unchanged. To write a large model to disk without even that copy, write the
 * original bytes and then append `modelExtension(model, extension)`.
 */
export const extendModel = (model: Uint8Array, extension: GraphBuilder | GraphExtensionProto, options: ExtendOptions = {}): Uint8Array => {
  const suffix = modelExtension(model, extension, options)
  const out = new Uint8Array(model.length + suffix.length)
  out.set(model, 0)
  out.set(suffix, model.length)
  return out
}

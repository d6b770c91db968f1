/**
 * Plain-data mirror of the ONNX protobuf messages this package writes (onnx.proto field numbers),
 * and `encodeModel`, which serializes a ModelProto into one Uint8Array.
 */
import { littleEndianBytes, Message } from "./internal/protobuf.js"

/** Element types supported for tensors, inputs and outputs. */
export type DataType = "float32" | "float64" | "float16" | "int64" | "int32" | "int8" | "uint8" | "bool"

/** ONNX TensorProto.DataType codes. */
export const DataTypeCode: Readonly<Record<DataType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11
}

/**
 * Typed-array storage per element type. bool is one byte (0/1) per element; float16 is raw IEEE
 * half bits in a Uint16Array.
 */
export interface TensorDataOf {
  float32: Float32Array
  float64: Float64Array
  float16: Uint16Array
  int64: BigInt64Array
  int32: Int32Array
  int8: Int8Array
  uint8: Uint8Array
  bool: Uint8Array
}
export type TensorData = TensorDataOf[DataType]

const ArrayCtorOf: Readonly<Record<DataType, { readonly name: string }>> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array
}

export interface TensorProto {
  readonly name?: string
  readonly dataType: DataType
  readonly dims: ReadonlyArray<number>
  readonly data: TensorData
  readonly docString?: string
}

/** A dimension: fixed size, symbolic name ("batch"), or null for unknown. */
export type Dim = number | string | null

export interface ValueInfoProto {
  readonly name: string
  readonly dataType: DataType
  /** Omitted: unknown rank. */
  readonly shape?: ReadonlyArray<Dim>
  readonly docString?: string
}

export type AttributeValue =
  | { readonly type: "float"; readonly value: number }
  | { readonly type: "int"; readonly value: number | bigint }
  | { readonly type: "string"; readonly value: string }
  | { readonly type: "tensor"; readonly value: TensorProto }
  | { readonly type: "graph"; readonly value: GraphProto }
  | { readonly type: "floats"; readonly value: ArrayLike<number> }
  | { readonly type: "ints"; readonly value: ReadonlyArray<number | bigint> }
  | { readonly type: "strings"; readonly value: ReadonlyArray<string> }

export interface AttributeProto {
  readonly name: string
  readonly value: AttributeValue
}

export interface NodeProto {
  readonly opType: string
  /** "" marks an omitted optional input. */
  readonly inputs: ReadonlyArray<string>
  readonly outputs: ReadonlyArray<string>
  readonly name?: string
  readonly domain?: string
  readonly attributes?: ReadonlyArray<AttributeProto>
  readonly docString?: string
}

export interface GraphProto {
  readonly name: string
  readonly nodes: ReadonlyArray<NodeProto>
  readonly initializers: ReadonlyArray<TensorProto>
  readonly inputs: ReadonlyArray<ValueInfoProto>
  readonly outputs: ReadonlyArray<ValueInfoProto>
  readonly valueInfo?: ReadonlyArray<ValueInfoProto>
  readonly docString?: string
}

export interface OperatorSetId {
  /** "" (or "ai.onnx") is the default ONNX domain. */
  readonly domain: string
  readonly version: number
}

export interface ModelProto {
  readonly irVersion: number
  readonly opsetImports: ReadonlyArray<OperatorSetId>
  readonly graph: GraphProto
  readonly producerName?: string
  readonly producerVersion?: string
  readonly domain?: string
  readonly modelVersion?: number
  readonly docString?: string
  readonly metadata?: Readonly<Record<string, string>>
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, graph: 5, floats: 6, ints: 7, strings: 8 } as const

const elementCount = (dims: ReadonlyArray<number>): number => dims.reduce((a, b) => a * b, 1)

/** Checks that a tensor's storage matches its element type and dims; throws a descriptive error otherwise. */
export const validateTensor = (t: TensorProto): void => {
  const label = t.name ? `tensor "${t.name}"` : "tensor"
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`${label}: dims must be non-negative integers, got [${t.dims.join(", ")}]`)
  }
  const ctor = ArrayCtorOf[t.dataType]
  if (ctor === undefined) throw new TypeError(`${label}: unsupported data type "${t.dataType}"`)
  if (t.data.constructor !== ctor) {
    throw new TypeError(`${label}: data type ${t.dataType} needs a ${ctor.name}, got ${t.data.constructor.name}`)
  }
  const n = elementCount(t.dims)
  if (t.data.length !== n) {
    throw new RangeError(`${label}: dims [${t.dims.join(", ")}] hold ${n} elements but data has ${t.data.length}`)
  }
}

const tensorMessage = (t: TensorProto): Message => {
  validateTensor(t)
  const m = new Message()
  m.packedVarint(1, t.dims)
  m.varint(2, DataTypeCode[t.dataType])
  if (t.name !== undefined) m.string(8, t.name)
  if (t.docString !== undefined) m.string(12, t.docString)
  m.bytes(9, littleEndianBytes(t.data))
  return m
}

const typeMessage = (v: ValueInfoProto): Message => {
  const tensorType = new Message().varint(1, DataTypeCode[v.dataType])
  if (v.shape !== undefined) {
    const shape = new Message()
    for (const d of v.shape) {
      const dim = new Message()
      if (typeof d === "number") {
        if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`value "${v.name}": dim ${d} is not a non-negative integer`)
        dim.varint(1, d)
      } else if (typeof d === "string") dim.string(2, d)
      shape.message(1, dim)
    }
    tensorType.message(2, shape)
  }
  return new Message().message(1, tensorType)
}

const valueInfoMessage = (v: ValueInfoProto): Message => {
  const m = new Message().string(1, v.name).message(2, typeMessage(v))
  if (v.docString !== undefined) m.string(3, v.docString)
  return m
}

const attributeMessage = (a: AttributeProto): Message => {
  const m = new Message().string(1, a.name)
  const v = a.value
  m.varint(20, ATTR_TYPE[v.type])
  switch (v.type) {
    case "float":
      m.float(2, v.value)
      break
    case "int":
      m.varint(3, v.value)
      break
    case "string":
      m.string(4, v.value)
      break
    case "tensor":
      m.message(5, tensorMessage(v.value))
      break
    case "graph":
      m.message(6, graphMessage(v.value))
      break
    case "floats":
      m.packedFloat(7, v.value)
      break
    case "ints":
      m.packedVarint(8, v.value)
      break
    case "strings":
      for (const s of v.value) m.string(9, s)
      break
  }
  return m
}

const nodeMessage = (n: NodeProto): Message => {
  const m = new Message()
  for (const i of n.inputs) m.string(1, i)
  for (const o of n.outputs) m.string(2, o)
  if (n.name !== undefined) m.string(3, n.name)
  m.string(4, n.opType)
  for (const a of n.attributes ?? []) m.message(5, attributeMessage(a))
  if (n.docString !== undefined) m.string(6, n.docString)
  if (n.domain !== undefined && n.domain !== "") m.string(7, n.domain)
  return m
}

const graphMessage = (g: GraphProto): Message => {
  const m = new Message()
  for (const n of g.nodes) m.message(1, nodeMessage(n))
  m.string(2, g.name)
  for (const t of g.initializers) m.message(5, tensorMessage(t))
  if (g.docString !== undefined) m.string(10, g.docString)
  for (const v of g.inputs) m.message(11, valueInfoMessage(v))
  for (const v of g.outputs) m.message(12, valueInfoMessage(v))
  for (const v of g.valueInfo ?? []) m.message(13, valueInfoMessage(v))
  return m
}

/** The repeated graph fields an extension appends to an existing model (see `extendModel`). */
export interface GraphExtensionProto {
  readonly nodes: ReadonlyArray<NodeProto>
  readonly initializers?: ReadonlyArray<TensorProto>
  /** New graph inputs (rare: extensions usually read the model's existing values). */
  readonly inputs?: ReadonlyArray<ValueInfoProto>
  readonly outputs?: ReadonlyArray<ValueInfoProto>
  readonly valueInfo?: ReadonlyArray<ValueInfoProto>
}

/**
 * A serialized ModelProto holding only repeated fields: `graph` with just the extension's nodes,
 * initializers, inputs, outputs and value infos (no name, so the original keeps its own), new
 * opset imports and metadata entries. Appended to a model's bytes, protobuf parsers merge it into
 * the original: the singular `graph` message merges field by field and repeated fields append.
 */
export const encodeModelSuffix = (
  graph: GraphExtensionProto,
  opsetImports: ReadonlyArray<OperatorSetId> = [],
  metadata: Readonly<Record<string, string>> = {}
): Uint8Array => {
  const g = new Message()
  for (const n of graph.nodes) g.message(1, nodeMessage(n))
  for (const t of graph.initializers ?? []) g.message(5, tensorMessage(t))
  for (const v of graph.inputs ?? []) g.message(11, valueInfoMessage(v))
  for (const v of graph.outputs ?? []) g.message(12, valueInfoMessage(v))
  for (const v of graph.valueInfo ?? []) g.message(13, valueInfoMessage(v))
  const m = new Message().message(7, g)
  for (const o of opsetImports) m.message(8, opsetMessage(o))
  for (const [key, value] of Object.entries(metadata)) m.message(14, new Message().string(1, key).string(2, value))
  return m.encode()
}

const opsetMessage = (o: OperatorSetId): Message => {
  const op = new Message()
  if (o.domain !== "" && o.domain !== "ai.onnx") op.string(1, o.domain)
  return op.varint(2, o.version)
}

/** Serializes a ModelProto to ONNX protobuf bytes (one allocation of the final size). */
export const encodeModel = (model: ModelProto): Uint8Array => {
  const m = new Message().varint(1, model.irVersion)
  if (model.producerName !== undefined) m.string(2, model.producerName)
  if (model.producerVersion !== undefined) m.string(3, model.producerVersion)
  if (model.domain !== undefined) m.string(4, model.domain)
  if (model.modelVersion !== undefined) m.varint(5, model.modelVersion)
  if (model.docString !== undefined) m.string(6, model.docString)
  m.message(7, graphMessage(model.graph))
  for (const o of model.opsetImports) m.message(8, opsetMessage(o))
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    m.message(14, new Message().string(1, key).string(2, value))
  }
  return m.encode()
}

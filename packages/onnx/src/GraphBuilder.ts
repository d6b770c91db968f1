/**
 * Ergonomic ONNX graph construction:
 *
 *   const g = new GraphBuilder()
 *   const x = g.input("x", "float32", ["batch", 384])
 *   const w = g.initializer("w", weights, [384, 100])
 *   g.output(g.op("MatMul", [x, w]), { name: "y" })
 *   const bytes = g.toModel({ opset: 17 })
 *
 * Values are handles; names are resolved when the model is written, so `output()` can give an
 * intermediate value its public name without an extra Identity node.
 */
import { type AttrInput, toAttributeValue } from "./Attr.js"
import {
  type AttributeProto,
  type DataType,
  type Dim,
  encodeModel,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorData,
  type TensorProto,
  validateTensor,
  type ValueInfoProto
} from "./Proto.js"

type ValueKind = "input" | "initializer" | "node" | "ref"

/**
 * A tensor in a graph under construction: a graph input, an initializer, a node output, or a
 * reference to a value defined outside the builder (`ref`).
 */
export class Value {
  /** @internal */
  constructor(
    /** @internal */ readonly owner: GraphBuilder,
    /** @internal */ public _name: string,
    readonly kind: ValueKind,
    readonly dataType: DataType | undefined,
    readonly shape: ReadonlyArray<Dim> | undefined
  ) {}
  get name(): string {
    return this._name
  }
}

export interface OpOptions {
  /** Node name (default: `<OpType>_<n>`). */
  readonly name?: string
  readonly domain?: string
  /** Output tensor names (default: `<nodeName>_out<i>`). */
  readonly outputNames?: ReadonlyArray<string>
  /** Output element types, for ops whose output type is not inferred (see `inferOutputTypes`). */
  readonly outputTypes?: ReadonlyArray<DataType | undefined>
}

export interface OutputSpec {
  /** Public name of the graph output (default: the value's current name). */
  readonly name?: string
  /** Required when the builder could not infer the value's element type. */
  readonly dataType?: DataType
  /** Omitted: the value's known shape, else unknown rank. */
  readonly shape?: ReadonlyArray<Dim>
}

export interface GraphBuilderOptions {
  /**
   * Names already taken outside this builder (e.g. every value and node name of a model being
   * extended): auto-generated names avoid them and explicit names that reuse one are rejected.
   */
  readonly reservedNames?: Iterable<string>
}

export interface ModelOptions {
  /** Default-domain opset version (default 17). */
  readonly opset?: number
  /** Extra domains, e.g. { "com.microsoft": 1 }. Domains used by nodes but not listed get version 1. */
  readonly opsets?: Readonly<Record<string, number>>
  /** Default: the IR version that introduced `opset`. */
  readonly irVersion?: number
  readonly producerName?: string
  readonly producerVersion?: string
  readonly docString?: string
  readonly metadata?: Readonly<Record<string, string>>
}

/** IR version released with each default-domain opset (onnx/helper.py VERSION_TABLE). */
const IR_FOR_OPSET: ReadonlyArray<[number, number]> = [
  [8, 3], [9, 4], [10, 5], [11, 6], [14, 7], [18, 8], [20, 9], [22, 10], [24, 11]
]

export const irVersionForOpset = (opset: number): number => {
  for (const [maxOpset, ir] of IR_FOR_OPSET) if (opset <= maxOpset) return ir
  throw new RangeError(`no known IR version for opset ${opset}; pass irVersion explicitly`)
}

const typeOfArray = (data: TensorData): DataType => {
  if (data instanceof Float32Array) return "float32"
  if (data instanceof Float64Array) return "float64"
  if (data instanceof BigInt64Array) return "int64"
  if (data instanceof Int32Array) return "int32"
  if (data instanceof Int8Array) return "int8"
  if (data instanceof Uint8Array) return "uint8"
  if (data instanceof Uint16Array) return "float16"
  throw new TypeError(`unsupported tensor storage ${(data as object).constructor.name}`)
}

/** Makes typed storage for `dataType` from plain JS numbers/bigints/booleans. */
export const tensorData = (dataType: DataType, values: ReadonlyArray<number | bigint | boolean>): TensorData => {
  switch (dataType) {
    case "float32":
      return Float32Array.from(values, Number)
    case "float64":
      return Float64Array.from(values, Number)
    case "int64":
      return BigInt64Array.from(values, (v) => BigInt(typeof v === "boolean" ? Number(v) : v))
    case "int32":
      return Int32Array.from(values, Number)
    case "int8":
      return Int8Array.from(values, Number)
    case "uint8":
      return Uint8Array.from(values, Number)
    case "bool":
      return Uint8Array.from(values, (v) => (v ? 1 : 0))
    case "float16":
      throw new TypeError("float16 tensors need raw half bits in a Uint16Array")
  }
}

/** Ops whose (first) output has the element type of their first input. */
const SAME_TYPE_OPS = new Set([
  "Abs", "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Sqrt", "Exp", "Log", "Erf", "Tanh", "Sigmoid", "Relu",
  "Gelu", "Softmax", "LogSoftmax", "MatMul", "Gemm", "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Concat",
  "Gather", "GatherElements", "Slice", "Expand", "Tile", "Identity", "LayerNormalization", "ReduceSum",
  "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL2", "Max", "Min", "Clip", "Flatten", "Split", "Reciprocal",
  "LpNormalization", "CumSum", "Einsum", "Trilu", "Dropout", "Sign", "Floor", "Ceil", "Round", "Mod",
  "LeakyRelu", "Elu", "Selu", "HardSigmoid", "Softplus", "Pad", "Resize", "Range"
])
const BOOL_OPS = new Set(["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf"])
const INT64_OPS = new Set(["Shape", "Size", "ArgMax", "ArgMin", "NonZero"])
const CAST_TO: Readonly<Record<number, DataType>> = { 1: "float32", 2: "uint8", 3: "int8", 6: "int32", 7: "int64", 9: "bool", 10: "float16", 11: "float64" }

/** Best-effort element types of a standard op's outputs (undefined where unknown). */
const inferOutputTypes = (
  opType: string,
  domain: string,
  inputs: ReadonlyArray<Value | null>,
  attributes: ReadonlyArray<AttributeProto>,
  count: number
): Array<DataType | undefined> => {
  const out: Array<DataType | undefined> = new Array(count).fill(undefined)
  if (domain !== "") return out
  const first = inputs[0]?.dataType
  if (SAME_TYPE_OPS.has(opType)) out.fill(first)
  else if (BOOL_OPS.has(opType)) out.fill("bool")
  else if (INT64_OPS.has(opType)) out.fill("int64")
  else if (opType === "Where") out[0] = inputs[1]?.dataType
  else if (opType === "TopK") {
    out[0] = first
    out[1] = "int64"
  } else if (opType === "Cast") {
    const to = attributes.find((a) => a.name === "to")?.value
    if (to?.type === "int") out[0] = CAST_TO[Number(to.value)]
  } else if (opType === "Constant" || opType === "ConstantOfShape") {
    const v = attributes.find((a) => a.name === "value")?.value
    if (v?.type === "tensor") out[0] = v.value.dataType
    else if (opType === "ConstantOfShape") out[0] = "float32"
  }
  if (opType === "Dropout" && count > 1) out[1] = "bool"
  return out
}

interface PendingNode {
  readonly opType: string
  readonly name: string
  readonly domain: string
  readonly inputs: ReadonlyArray<Value | null>
  readonly outputs: ReadonlyArray<Value>
  readonly attributes: ReadonlyArray<AttributeProto>
}

export class GraphBuilder {
  private readonly inputs: Array<Value> = []
  private readonly initializers: Array<{ value: Value; tensor: TensorProto }> = []
  private readonly nodes: Array<PendingNode> = []
  private readonly outputs: Array<{ value: Value; dataType: DataType; shape: ReadonlyArray<Dim> | undefined }> = []
  private readonly names = new Set<string>()
  private readonly reserved: ReadonlySet<string>
  private counter = 0

  constructor(readonly name: string = "graph", options: GraphBuilderOptions = {}) {
    this.reserved = new Set(options.reservedNames ?? [])
  }

  private taken(name: string): boolean {
    return this.names.has(name) || this.reserved.has(name)
  }

  private claim(name: string, what: string): string {
    if (name === "") throw new Error(`${what}: names must be non-empty`)
    if (this.names.has(name)) throw new Error(`${what}: the name "${name}" is already used in graph "${this.name}"`)
    if (this.reserved.has(name)) throw new Error(`${what}: the name "${name}" is reserved (already used by the model this graph extends)`)
    this.names.add(name)
    return name
  }

  private fresh(prefix: string): string {
    let name: string
    do name = `${prefix}_${this.counter++}`
    while (this.taken(name))
    return name
  }

  private own(v: Value | null | undefined, where: string): Value | null {
    if (v === null || v === undefined) return null
    if (!(v instanceof Value) || v.owner !== this) {
      throw new Error(`${where}: input is not a value of graph "${this.name}"`)
    }
    return v
  }

  /** Declares a graph input. Dims: numbers, symbolic names ("batch") or null (unknown). */
  input(name: string, dataType: DataType, shape?: ReadonlyArray<Dim>): Value {
    const v = new Value(this, this.claim(name, "input"), "input", dataType, shape)
    this.inputs.push(v)
    return v
  }

  /**
   * A value defined outside this builder, used by name: a value of the model being extended
   * (`extendModel`) or of the graph enclosing a subgraph. It is not declared as a graph input.
   */
  ref(name: string, dataType: DataType, shape?: ReadonlyArray<Dim>): Value {
    if (name === "") throw new Error("ref: names must be non-empty")
    if (this.names.has(name)) throw new Error(`ref: the name "${name}" is already used in graph "${this.name}"`)
    this.names.add(name)
    return new Value(this, name, "ref", dataType, shape)
  }

  /**
   * Adds a named constant weight. The element type follows the array (Float32Array: float32,
   * BigInt64Array: int64, Int32Array: int32, Uint8Array: uint8); pass "bool" for boolean bytes.
   * The data is referenced, not copied: do not mutate it before `toModel`.
   */
  initializer(name: string, data: TensorData, dims: ReadonlyArray<number>, dataType: DataType = typeOfArray(data)): Value {
    const tensor: TensorProto = { name, dataType, dims: [...dims], data }
    validateTensor(tensor)
    const v = new Value(this, this.claim(name, "initializer"), "initializer", dataType, dims)
    this.initializers.push({ value: v, tensor })
    return v
  }

  /**
   * An auto-named initializer from typed storage or plain values:
   * `g.constant([0, 0, -1], { dataType: "int64" })`, `g.constant(new Float32Array([2]), { dims: [] })`.
   * Dims default to [length].
   */
  constant(
    data: TensorData | ReadonlyArray<number | bigint | boolean>,
    options: { readonly dims?: ReadonlyArray<number>; readonly dataType?: DataType; readonly name?: string } = {}
  ): Value {
    const typed = Array.isArray(data)
      ? tensorData(options.dataType ?? "float32", data as ReadonlyArray<number | bigint | boolean>)
      : (data as TensorData)
    const dataType = options.dataType ?? typeOfArray(typed)
    return this.initializer(options.name ?? this.fresh("const"), typed, options.dims ?? [typed.length], dataType)
  }

  /** Adds a node with one output. `null`/`undefined` inputs are omitted optional inputs. */
  op(
    opType: string,
    inputs: ReadonlyArray<Value | null | undefined>,
    attributes: Readonly<Record<string, AttrInput>> = {},
    options: OpOptions = {}
  ): Value {
    return this.opMulti(opType, inputs, 1, attributes, options)[0]
  }

  /** Adds a node with `outputCount` outputs (e.g. TopK: values and indices). */
  opMulti(
    opType: string,
    inputs: ReadonlyArray<Value | null | undefined>,
    outputCount: number,
    attributes: Readonly<Record<string, AttrInput>> = {},
    options: OpOptions = {}
  ): Array<Value> {
    const nodeName = options.name !== undefined ? options.name : this.fresh(opType)
    const where = `node "${nodeName}" (${opType})`
    const ins = inputs.map((v) => this.own(v, where))
    const attrs = Object.entries(attributes).map(([name, v]) => ({ name, value: toAttributeValue(name, v) }))
    const domain = options.domain ?? ""
    const inferred = inferOutputTypes(opType, domain, ins, attrs, outputCount)
    if (options.outputNames !== undefined && options.outputNames.length !== outputCount) {
      throw new Error(`${where}: ${options.outputNames.length} output names given for ${outputCount} outputs`)
    }
    const outs = Array.from({ length: outputCount }, (_, i) => {
      const name = options.outputNames?.[i] ?? this.fresh(`${nodeName}_out${i}`)
      return new Value(this, this.claim(name, where), "node", options.outputTypes?.[i] ?? inferred[i], undefined)
    })
    this.nodes.push({ opType, name: nodeName, domain, inputs: ins, outputs: outs, attributes: attrs })
    return outs
  }

  /**
   * Marks a value as a graph output. A node output not yet exported is renamed to `spec.name`;
   * inputs, initializers and already-exported values get an Identity node carrying the new name.
   */
  output(value: Value, spec: OutputSpec = {}): Value {
    let v = this.own(value, "output") as Value
    const name = spec.name ?? v.name
    const dataType = spec.dataType ?? v.dataType
    if (dataType === undefined) {
      throw new Error(`output "${name}": element type unknown; pass { dataType } (e.g. "float32")`)
    }
    const exported = this.outputs.some((o) => o.value === v)
    if (name !== v.name) {
      if (v.kind === "node" && !exported) {
        this.claim(name, `output "${name}"`)
        this.names.delete(v._name)
        v._name = name
      } else {
        v = this.op("Identity", [v], {}, { outputNames: [name], outputTypes: [dataType] })
      }
    } else if (exported) {
      throw new Error(`output "${name}" is already a graph output`)
    }
    this.outputs.push({ value: v, dataType, shape: spec.shape ?? v.shape })
    return v
  }

  /** The graph as plain data (names resolved). */
  toGraphProto(): GraphProto {
    if (this.outputs.length === 0) throw new Error(`graph "${this.name}" has no outputs; call output() first`)
    const nodes: Array<NodeProto> = this.nodes.map((n) => ({
      opType: n.opType,
      name: n.name,
      domain: n.domain,
      inputs: trimOptional(n.inputs.map((v) => (v === null ? "" : v.name))),
      outputs: n.outputs.map((v) => v.name),
      attributes: n.attributes
    }))
    const info = (v: Value): ValueInfoProto => ({ name: v.name, dataType: v.dataType!, ...(v.shape ? { shape: v.shape } : {}) })
    return {
      name: this.name,
      nodes,
      initializers: this.initializers.map((i) => i.tensor),
      inputs: this.inputs.map(info),
      outputs: this.outputs.map((o) => ({ name: o.value.name, dataType: o.dataType, ...(o.shape ? { shape: o.shape } : {}) }))
    }
  }

  toModelProto(options: ModelOptions = {}): ModelProto {
    const opset = options.opset ?? 17
    const graph = this.toGraphProto()
    const opsets = new Map<string, number>([["", opset]])
    for (const [domain, version] of Object.entries(options.opsets ?? {})) opsets.set(domain === "ai.onnx" ? "" : domain, version)
    for (const n of this.nodes) if (!opsets.has(n.domain)) opsets.set(n.domain, 1)
    if (this.refCount() > 0) throw new Error(`graph "${this.name}" references outside values (ref); extend a model with it (extendModel) or use it as a subgraph`)
    return {
      irVersion: options.irVersion ?? irVersionForOpset(opset),
      opsetImports: [...opsets].map(([domain, version]) => ({ domain, version })),
      graph,
      producerName: options.producerName ?? "@embedflow/onnx",
      ...(options.producerVersion !== undefined ? { producerVersion: options.producerVersion } : {}),
      ...(options.docString !== undefined ? { docString: options.docString } : {}),
      ...(options.metadata !== undefined ? { metadata: options.metadata } : {})
    }
  }

  private refCount(): number {
    let n = 0
    for (const node of this.nodes) for (const v of node.inputs) if (v?.kind === "ref") n++
    for (const o of this.outputs) if (o.value.kind === "ref") n++
    return n
  }

  /** Serializes the model to ONNX bytes, loadable by `ort.InferenceSession.create(bytes)`. */
  toModel(options: ModelOptions = {}): Uint8Array {
    return encodeModel(this.toModelProto(options))
  }
}

/** Trailing omitted optional inputs are dropped, as ONNX expects. */
const trimOptional = (names: Array<string>): Array<string> => {
  let end = names.length
  while (end > 0 && names[end - 1] === "") end--
  return names.slice(0, end)
}

/**
 * Just enough of the ONNX protobuf to train a model's weights in place: the main graph's nodes
 * (with int attributes, for Gemm's transB), its float initializers with the byte range of their
 * payload (so new values are written over the old ones in a copy of the file, leaving the graph
 * byte-identical otherwise), and the opset imports.
 */

interface Field {
  readonly no: number
  readonly wire: number
  readonly value: number
  readonly start: number
  readonly end: number
}

const varint = (buf: Uint8Array, c: { pos: number }): number => {
  let result = 0, shift = 0
  for (;;) {
    if (c.pos >= buf.length) throw new Error("malformed ONNX protobuf: truncated varint")
    const byte = buf[c.pos++]
    result += (byte & 0x7f) * 2 ** shift
    if ((byte & 0x80) === 0) return result
    shift += 7
  }
}

function* fields(buf: Uint8Array, start = 0, end = buf.length): Generator<Field> {
  const c = { pos: start }
  while (c.pos < end) {
    const key = varint(buf, c)
    const no = Math.floor(key / 8), wire = key % 8, s = c.pos
    if (wire === 0) {
      const value = varint(buf, c)
      yield { no, wire, value, start: s, end: c.pos }
    } else if (wire === 1 || wire === 5) {
      c.pos += wire === 1 ? 8 : 4
      yield { no, wire, value: 0, start: s, end: c.pos }
    } else if (wire === 2) {
      const len = varint(buf, c)
      const ds = c.pos
      c.pos += len
      if (c.pos > end) throw new Error("malformed ONNX protobuf: field runs past its message")
      yield { no, wire, value: len, start: ds, end: c.pos }
    } else throw new Error(`malformed ONNX protobuf: wire type ${wire}`)
  }
}

const decoder = new TextDecoder()
const text = (buf: Uint8Array, f: Field) => decoder.decode(buf.subarray(f.start, f.end))

export interface OnnxNode {
  readonly name: string
  readonly opType: string
  readonly domain: string
  readonly inputs: ReadonlyArray<string>
  readonly outputs: ReadonlyArray<string>
  /** Int attributes only (transA/transB, axis, ...). */
  readonly ints: ReadonlyMap<string, number>
}

export interface OnnxInitializer {
  readonly name: string
  readonly dims: ReadonlyArray<number>
  /** ONNX TensorProto.DataType code (1 = float32). */
  readonly dataType: number
  /** Byte range of the float32 payload (raw_data or packed float_data) in the model bytes. */
  readonly payload: { readonly start: number; readonly end: number } | undefined
  /** Stored outside the file (external data). */
  readonly external: boolean
}

export interface OnnxGraph {
  readonly nodes: ReadonlyArray<OnnxNode>
  readonly initializers: ReadonlyMap<string, OnnxInitializer>
  readonly opsets: ReadonlyMap<string, number>
  readonly inputs: ReadonlyArray<string>
  readonly outputs: ReadonlyArray<string>
}

const readNode = (buf: Uint8Array, f: Field): OnnxNode => {
  const inputs: Array<string> = [], outputs: Array<string> = []
  const ints = new Map<string, number>()
  let name = "", opType = "", domain = ""
  for (const x of fields(buf, f.start, f.end)) {
    if (x.wire !== 2) continue
    if (x.no === 1) inputs.push(text(buf, x))
    else if (x.no === 2) outputs.push(text(buf, x))
    else if (x.no === 3) name = text(buf, x)
    else if (x.no === 4) opType = text(buf, x)
    else if (x.no === 7) domain = text(buf, x)
    else if (x.no === 5) {
      let an = "", iv: number | undefined
      for (const a of fields(buf, x.start, x.end)) {
        if (a.no === 1 && a.wire === 2) an = text(buf, a)
        else if (a.no === 3 && a.wire === 0) iv = a.value
      }
      if (iv !== undefined) ints.set(an, iv)
    }
  }
  return { name, opType, domain: domain === "ai.onnx" ? "" : domain, inputs, outputs, ints }
}

const readInitializer = (buf: Uint8Array, f: Field): OnnxInitializer => {
  const dims: Array<number> = []
  let name = "", dataType = 0, external = false
  let payload: { start: number; end: number } | undefined
  for (const x of fields(buf, f.start, f.end)) {
    if (x.no === 1 && x.wire === 0) dims.push(x.value)
    else if (x.no === 1 && x.wire === 2) {
      const c = { pos: x.start }
      while (c.pos < x.end) dims.push(varint(buf, c))
    } else if (x.no === 2 && x.wire === 0) dataType = x.value
    else if (x.no === 8 && x.wire === 2) name = text(buf, x)
    else if ((x.no === 9 || x.no === 4) && x.wire === 2) payload = { start: x.start, end: x.end }
    else if (x.no === 14 && x.wire === 0 && x.value === 1) external = true
  }
  return { name, dims, dataType, payload, external }
}

export const readOnnxGraph = (model: Uint8Array): OnnxGraph => {
  const nodes: Array<OnnxNode> = []
  const initializers = new Map<string, OnnxInitializer>()
  const opsets = new Map<string, number>()
  const inputs: Array<string> = [], outputs: Array<string> = []
  let sawGraph = false
  const nameOf = (f: Field) => {
    for (const x of fields(model, f.start, f.end)) if (x.no === 1 && x.wire === 2) return text(model, x)
    return ""
  }
  for (const m of fields(model)) {
    if (m.no === 7 && m.wire === 2) {
      sawGraph = true
      for (const g of fields(model, m.start, m.end)) {
        if (g.wire !== 2) continue
        if (g.no === 1) nodes.push(readNode(model, g))
        else if (g.no === 5) {
          const t = readInitializer(model, g)
          initializers.set(t.name, t)
        } else if (g.no === 11) inputs.push(nameOf(g))
        else if (g.no === 12) outputs.push(nameOf(g))
      }
    } else if (m.no === 8 && m.wire === 2) {
      let domain = "", version = 0
      for (const x of fields(model, m.start, m.end)) {
        if (x.no === 1 && x.wire === 2) domain = text(model, x)
        else if (x.no === 2 && x.wire === 0) version = x.value
      }
      opsets.set(domain === "ai.onnx" ? "" : domain, version)
    }
  }
  if (!sawGraph) throw new Error("not an ONNX model (the protobuf has no graph)")
  return { nodes, initializers, opsets, inputs, outputs }
}

/** A copy of an initializer's float32 values. */
export const initializerValues = (model: Uint8Array, t: OnnxInitializer): Float32Array => {
  const size = t.dims.reduce((a, b) => a * b, 1)
  if (t.payload === undefined) {
    if (size === 0) return new Float32Array(0)
    throw new Error(`initializer "${t.name}" has no raw_data or float_data payload`)
  }
  const bytes = t.payload.end - t.payload.start
  if (bytes !== size * 4) throw new Error(`initializer "${t.name}": ${bytes} payload bytes for ${size} float32 values`)
  const out = new Float32Array(size)
  new Uint8Array(out.buffer).set(model.subarray(t.payload.start, t.payload.end))
  return out
}

/** Overwrites an initializer's float32 payload in `model` (same size, little-endian). */
export const writeInitializerValues = (model: Uint8Array, t: OnnxInitializer, values: Float32Array): void => {
  if (t.payload === undefined || t.payload.end - t.payload.start !== values.length * 4) {
    throw new Error(`initializer "${t.name}": cannot write ${values.length} values over its payload`)
  }
  model.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), t.payload.start)
}

/**
 * Just enough protobuf to read an ONNX graph's node list and to add a graph output, so that a
 * causal LM exported with only `logits` can also return the hidden state feeding its LM head.
 */

interface Cursor {
  pos: number
}

const readVarint = (buf: Uint8Array, c: Cursor): number => {
  let result = 0
  let shift = 0
  for (;;) {
    if (c.pos >= buf.length) throw new Error("truncated varint")
    const byte = buf[c.pos++]
    result += (byte & 0x7f) * 2 ** shift
    if ((byte & 0x80) === 0) return result
    shift += 7
  }
}

interface Field {
  readonly field: number
  readonly wire: number
  /** For length-delimited fields: [start, end) of the payload. */
  readonly start: number
  readonly end: number
}

/** Iterates the top-level fields of a message in buf[start, end). */
function* fields(buf: Uint8Array, start: number, end: number): Generator<Field> {
  const c = { pos: start }
  while (c.pos < end) {
    const key = readVarint(buf, c)
    const field = Math.floor(key / 8)
    const wire = key & 7
    if (wire === 0) {
      const s = c.pos
      readVarint(buf, c)
      yield { field, wire, start: s, end: c.pos }
    } else if (wire === 1) {
      yield { field, wire, start: c.pos, end: c.pos + 8 }
      c.pos += 8
    } else if (wire === 2) {
      const len = readVarint(buf, c)
      yield { field, wire, start: c.pos, end: c.pos + len }
      c.pos += len
    } else if (wire === 5) {
      yield { field, wire, start: c.pos, end: c.pos + 4 }
      c.pos += 4
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`)
    }
  }
}

const text = new TextDecoder()
const utf8 = new TextEncoder()

export interface OnnxNode {
  readonly opType: string
  readonly inputs: ReadonlyArray<string>
  readonly outputs: ReadonlyArray<string>
}

/** The node that produces `output` in the main graph (ModelProto.graph = 7, GraphProto.node = 1). */
export const findProducer = (model: Uint8Array, output: string): OnnxNode | undefined => {
  for (const g of fields(model, 0, model.length)) {
    if (g.field !== 7 || g.wire !== 2) continue
    for (const n of fields(model, g.start, g.end)) {
      if (n.field !== 1 || n.wire !== 2) continue
      const inputs: Array<string> = []
      const outputs: Array<string> = []
      let opType = ""
      for (const f of fields(model, n.start, n.end)) {
        if (f.wire !== 2) continue
        const s = f.field === 1 || f.field === 2 || f.field === 4 ? text.decode(model.subarray(f.start, f.end)) : ""
        if (f.field === 1) inputs.push(s)
        else if (f.field === 2) outputs.push(s)
        else if (f.field === 4) opType = s
      }
      if (outputs.includes(output)) return { opType, inputs, outputs }
    }
  }
  return undefined
}

const varint = (n: number): Array<number> => {
  const out: Array<number> = []
  while (n > 0x7f) {
    out.push((n % 128) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return out
}

const lenField = (field: number, payload: ArrayLike<number>): Array<number> => [
  ...varint(field * 8 + 2),
  ...varint(payload.length),
  ...Array.from(payload)
]

/**
 * Returns the model with one more float graph output named `name`. Protobuf merges a repeated
 * occurrence of the singular `graph` field into the first one and appends repeated `output`
 * entries, so appending `graph { output { ... } }` to the bytes adds the output without
 * re-encoding the (possibly large) model.
 */
export const appendGraphOutput = (model: Uint8Array, name: string, elemType = 1): Uint8Array => {
  const tensorType = [...varint(1 * 8 + 0), ...varint(elemType)] // TypeProto.Tensor.elem_type
  const typeProto = lenField(1, tensorType) // TypeProto.tensor_type
  const valueInfo = [...lenField(1, utf8.encode(name)), ...lenField(2, typeProto)]
  const graph = lenField(12, valueInfo) // GraphProto.output
  const extra = Uint8Array.from(lenField(7, graph)) // ModelProto.graph
  const out = new Uint8Array(model.length + extra.length)
  out.set(model, 0)
  out.set(extra, model.length)
  return out
}

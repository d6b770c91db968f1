/**
 * Minimal protobuf wire-format encoder.
 *
 * A message is a list of fields that reference (never copy) their payloads. Encoding is two-pass:
 * sizes are computed once bottom-up (and cached on each message), then everything is written into
 * one preallocated Uint8Array, so a 136 MB initializer is copied exactly once.
 */

const WIRE_VARINT = 0
const WIRE_FIXED32 = 5
const WIRE_LEN = 2

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

type Field =
  | { readonly kind: "varint"; readonly no: number; readonly value: number | bigint }
  | { readonly kind: "fixed32f"; readonly no: number; readonly value: number }
  | { readonly kind: "bytes"; readonly no: number; readonly value: Uint8Array }
  | { readonly kind: "message"; readonly no: number; readonly value: Message }
  | { readonly kind: "packedVarint"; readonly no: number; readonly value: ReadonlyArray<number | bigint> }
  | { readonly kind: "packedFloat"; readonly no: number; readonly value: ArrayLike<number> }

const utf8 = new TextEncoder()

/** Size in bytes of a varint; negative int64 values take 10 bytes (two's complement). */
const varintSize = (v: number | bigint): number => {
  if (typeof v === "number") {
    if (v >= 0 && v < 0x80) return 1
    if (!Number.isSafeInteger(v)) throw new RangeError(`protobuf varint must be a safe integer, got ${v}`)
    if (v < 0) return 10
    let n = 1
    while (v >= 0x80) {
      v = Math.floor(v / 128)
      n++
    }
    return n
  }
  let u = BigInt.asUintN(64, v)
  let n = 1
  while (u >= 0x80n) {
    u >>= 7n
    n++
  }
  return n
}

const tagSize = (no: number, wire: number): number => varintSize(no * 8 + wire)

const packedVarintPayload = (values: ReadonlyArray<number | bigint>): number => {
  let s = 0
  for (const v of values) s += varintSize(v)
  return s
}

export class Message {
  private readonly fields: Array<Field> = []
  private cachedSize = -1

  varint(no: number, value: number | bigint | boolean): this {
    this.fields.push({ kind: "varint", no, value: typeof value === "boolean" ? (value ? 1 : 0) : value })
    return this
  }
  float(no: number, value: number): this {
    this.fields.push({ kind: "fixed32f", no, value })
    return this
  }
  string(no: number, value: string): this {
    this.fields.push({ kind: "bytes", no, value: utf8.encode(value) })
    return this
  }
  bytes(no: number, value: Uint8Array): this {
    this.fields.push({ kind: "bytes", no, value })
    return this
  }
  message(no: number, value: Message): this {
    this.fields.push({ kind: "message", no, value })
    return this
  }
  /** Repeated integer field, packed (proto2 parsers accept packed and unpacked alike). */
  packedVarint(no: number, value: ReadonlyArray<number | bigint>): this {
    if (value.length > 0) this.fields.push({ kind: "packedVarint", no, value })
    return this
  }
  packedFloat(no: number, value: ArrayLike<number>): this {
    if (value.length > 0) this.fields.push({ kind: "packedFloat", no, value })
    return this
  }

  size(): number {
    if (this.cachedSize >= 0) return this.cachedSize
    let s = 0
    for (const f of this.fields) {
      switch (f.kind) {
        case "varint":
          s += tagSize(f.no, WIRE_VARINT) + varintSize(f.value)
          break
        case "fixed32f":
          s += tagSize(f.no, WIRE_FIXED32) + 4
          break
        case "bytes":
          s += tagSize(f.no, WIRE_LEN) + varintSize(f.value.length) + f.value.length
          break
        case "message": {
          const n = f.value.size()
          s += tagSize(f.no, WIRE_LEN) + varintSize(n) + n
          break
        }
        case "packedVarint": {
          const n = packedVarintPayload(f.value)
          s += tagSize(f.no, WIRE_LEN) + varintSize(n) + n
          break
        }
        case "packedFloat": {
          const n = f.value.length * 4
          s += tagSize(f.no, WIRE_LEN) + varintSize(n) + n
          break
        }
      }
    }
    if (s > 0x7fffffff) throw new RangeError(`protobuf message of ${s} bytes exceeds the 2 GiB protobuf limit`)
    this.cachedSize = s
    return s
  }

  encode(): Uint8Array {
    const out = new Uint8Array(this.size())
    const w = new Writer(out)
    w.writeMessageBody(this)
    if (w.pos !== out.length) throw new Error(`protobuf encoder size mismatch: wrote ${w.pos}, planned ${out.length}`)
    return out
  }

  /** @internal used by Writer */
  get _fields(): ReadonlyArray<Field> {
    return this.fields
  }
}

class Writer {
  pos = 0
  private readonly view: DataView
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  private varint(v: number | bigint): void {
    if (typeof v === "number" && v >= 0) {
      while (v >= 0x80) {
        this.buf[this.pos++] = (v % 128) | 0x80
        v = Math.floor(v / 128)
      }
      this.buf[this.pos++] = v
      return
    }
    let u = BigInt.asUintN(64, BigInt(v))
    while (u >= 0x80n) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80
      u >>= 7n
    }
    this.buf[this.pos++] = Number(u)
  }

  private tag(no: number, wire: number): void {
    this.varint(no * 8 + wire)
  }

  writeMessageBody(m: Message): void {
    for (const f of m._fields) {
      switch (f.kind) {
        case "varint":
          this.tag(f.no, WIRE_VARINT)
          this.varint(f.value)
          break
        case "fixed32f":
          this.tag(f.no, WIRE_FIXED32)
          this.view.setFloat32(this.pos, f.value, true)
          this.pos += 4
          break
        case "bytes":
          this.tag(f.no, WIRE_LEN)
          this.varint(f.value.length)
          this.buf.set(f.value, this.pos)
          this.pos += f.value.length
          break
        case "message":
          this.tag(f.no, WIRE_LEN)
          this.varint(f.value.size())
          this.writeMessageBody(f.value)
          break
        case "packedVarint":
          this.tag(f.no, WIRE_LEN)
          this.varint(packedVarintPayload(f.value))
          for (const v of f.value) this.varint(v)
          break
        case "packedFloat": {
          this.tag(f.no, WIRE_LEN)
          const n = f.value.length
          this.varint(n * 4)
          if (f.value instanceof Float32Array && LITTLE_ENDIAN) {
            this.buf.set(new Uint8Array(f.value.buffer, f.value.byteOffset, n * 4), this.pos)
            this.pos += n * 4
          } else {
            for (let i = 0; i < n; i++) {
              this.view.setFloat32(this.pos, f.value[i], true)
              this.pos += 4
            }
          }
          break
        }
      }
    }
  }
}

/**
 * Little-endian bytes of a typed array. On little-endian hosts (every platform Node runs on in
 * practice) this is a view, not a copy.
 */
export const littleEndianBytes = (
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array | Int16Array
): Uint8Array => {
  if (LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  const out = new Uint8Array(data.byteLength)
  const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  const k = data.BYTES_PER_ELEMENT
  for (let i = 0; i < data.length; i++) for (let b = 0; b < k; b++) out[i * k + b] = src[i * k + (k - 1 - b)]
  return out
}

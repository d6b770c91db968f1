/**
 * Minimal protobuf wire-format reader: iterates the fields of a message without copying, so a
 * 136 MB model is scanned by skipping over its initializer payloads.
 */

export interface Cursor {
  pos: number
}

export const readVarint = (buf: Uint8Array, c: Cursor): number => {
  let result = 0
  let shift = 0
  for (;;) {
    if (c.pos >= buf.length) throw new Error("malformed protobuf: truncated varint")
    const byte = buf[c.pos++]!
    result += (byte & 0x7f) * 2 ** shift
    if ((byte & 0x80) === 0) return result
    shift += 7
  }
}

export interface Field {
  readonly no: number
  readonly wire: number
  /** Varint fields: the value (exact up to 2^53). */
  readonly value: number
  /** Length-delimited / fixed fields: [start, end) of the payload in the buffer. */
  readonly start: number
  readonly end: number
}

/** The fields of the message in buf[start, end). */
export function* fields(buf: Uint8Array, start = 0, end = buf.length): Generator<Field> {
  const c = { pos: start }
  while (c.pos < end) {
    const key = readVarint(buf, c)
    const no = Math.floor(key / 8)
    const wire = key & 7
    const s = c.pos
    switch (wire) {
      case 0: {
        const value = readVarint(buf, c)
        yield { no, wire, value, start: s, end: c.pos }
        break
      }
      case 1:
        c.pos += 8
        yield { no, wire, value: 0, start: s, end: c.pos }
        break
      case 2: {
        const len = readVarint(buf, c)
        const from = c.pos
        c.pos += len
        if (c.pos > end) throw new Error(`malformed protobuf: field ${no} runs past the end of its message`)
        yield { no, wire, value: len, start: from, end: c.pos }
        break
      }
      case 5:
        c.pos += 4
        yield { no, wire, value: 0, start: s, end: c.pos }
        break
      default:
        throw new Error(`malformed protobuf: unsupported wire type ${wire} (field ${no})`)
    }
  }
}

const decoder = new TextDecoder()
export const text = (buf: Uint8Array, f: Field): string => decoder.decode(buf.subarray(f.start, f.end))

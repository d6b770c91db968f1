/** Independent protobuf wire-format reader used to check what the encoder wrote. */
export type Wire = { no: number; wire: number; value: bigint | Uint8Array | number }

export const readVarint = (b: Uint8Array, pos: { p: number }): bigint => {
  let result = 0n
  let shift = 0n
  for (;;) {
    const byte = b[pos.p++]
    if (byte === undefined) throw new Error("truncated varint")
    result |= BigInt(byte & 0x7f) << shift
    if ((byte & 0x80) === 0) return result
    shift += 7n
  }
}

export const readFields = (b: Uint8Array): Array<Wire> => {
  const out: Array<Wire> = []
  const pos = { p: 0 }
  while (pos.p < b.length) {
    const tag = Number(readVarint(b, pos))
    const no = tag >>> 3
    const wire = tag & 7
    if (wire === 0) out.push({ no, wire, value: readVarint(b, pos) })
    else if (wire === 2) {
      const len = Number(readVarint(b, pos))
      if (pos.p + len > b.length) throw new Error("truncated length-delimited field")
      out.push({ no, wire, value: b.subarray(pos.p, pos.p + len) })
      pos.p += len
    } else if (wire === 5) {
      out.push({ no, wire, value: new DataView(b.buffer, b.byteOffset + pos.p, 4).getFloat32(0, true) })
      pos.p += 4
    } else throw new Error(`unexpected wire type ${wire}`)
  }
  return out
}

export const field = (fs: Array<Wire>, no: number): Array<Wire["value"]> => fs.filter((f) => f.no === no).map((f) => f.value)
export const str = (v: Wire["value"]): string => new TextDecoder().decode(v as Uint8Array)
export const sub = (v: Wire["value"]): Array<Wire> => readFields(v as Uint8Array)

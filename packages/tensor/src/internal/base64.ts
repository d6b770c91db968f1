/** Portable base64 of little-endian float32 (no Buffer: the same code runs on Node, Bun, Deno, browsers). */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
const LOOKUP = new Int16Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i

export const float32ToBase64 = (values: Float32Array): string => {
  const bytes = new Uint8Array(values.length * 4)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true)
  const parts: Array<string> = []
  let chunk = ""
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i], b1 = i + 1 < bytes.length ? bytes[i + 1] : 0, b2 = i + 2 < bytes.length ? bytes[i + 2] : 0
    const n = (b0 << 16) | (b1 << 8) | b2
    chunk += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63] +
      (i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63] : "=") + (i + 2 < bytes.length ? ALPHABET[n & 63] : "=")
    if (chunk.length >= 8192) {
      parts.push(chunk)
      chunk = ""
    }
  }
  parts.push(chunk)
  return parts.join("")
}

export const base64ToFloat32 = (text: string, what: string): Float32Array => {
  const clean = text.replace(/=+$/, "")
  const byteLength = Math.floor((clean.length * 6) / 8)
  if (byteLength % 4 !== 0) throw new RangeError(`${what}: base64 holds ${byteLength} bytes, not a whole number of float32`)
  const bytes = new Uint8Array(byteLength)
  let buffer = 0, bits = 0, o = 0
  for (let i = 0; i < clean.length; i++) {
    const c = clean.charCodeAt(i)
    const v = c < 128 ? LOOKUP[c] : -1
    if (v < 0) throw new RangeError(`${what}: invalid base64 character "${clean[i]}" at offset ${i}`)
    buffer = (buffer << 6) | v
    bits += 6
    if (bits >= 8) {
      bits -= 8
      bytes[o++] = (buffer >> bits) & 255
    }
  }
  const view = new DataView(bytes.buffer)
  const out = new Float32Array(byteLength / 4)
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true)
  return out
}

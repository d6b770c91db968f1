/** Hashed bag of words (FNV-1a into `dim` dims): a real, if weak, sentence encoder with no model files. */
export const hashEmbed = (text: string, dim: number): Float32Array => {
  const v = new Float32Array(dim)
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let h = 0x811c9dc5
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 0x01000193)
    v[(h >>> 0) % dim]! += 1
  }
  return v
}

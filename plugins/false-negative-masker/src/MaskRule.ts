/**
 * Which in-batch candidates are false negatives of an anchor, judged by a teacher's cosine
 * similarities. "threshold": sim > threshold. "gist" (GISTEmbed, Solatorio 2024): sim > sim(anchor,
 * own positive) - margin, i.e. the teacher finds the candidate about as close as the positive.
 * "none" masks nothing (the ablation). An anchor's own positive is never masked.
 */
export type MaskMode = "none" | "threshold" | "gist"

export interface MaskOptions {
  readonly mode: MaskMode
  readonly threshold: number
  readonly margin: number
}

/**
 * `sim` is row-major [rows x cols] with column i < rows being anchor i's positive. Returns 0/1
 * bytes of the same shape.
 */
export const maskFalseNegatives = (sim: Float64Array | Float32Array, rows: number, cols: number, options: MaskOptions): Uint8Array => {
  if (sim.length !== rows * cols) throw new RangeError(`maskFalseNegatives: ${sim.length} similarities, expected ${rows} x ${cols}`)
  if (cols < rows) throw new RangeError(`maskFalseNegatives: ${cols} candidates for ${rows} anchors; every anchor needs its positive among them`)
  const mask = new Uint8Array(rows * cols)
  if (options.mode === "none") return mask
  for (let i = 0; i < rows; i++) {
    const o = i * cols
    const limit = options.mode === "threshold" ? options.threshold : sim[o + i]! - options.margin
    for (let j = 0; j < cols; j++) if (j !== i && sim[o + j]! > limit) mask[o + j] = 1
  }
  return mask
}

/** Cosine of every row of `a` with every row of `b` (both row-major, `dim` wide), in float64. */
export const cosineMatrix = (a: Float32Array, aRows: number, b: Float32Array, bRows: number, dim: number): Float64Array => {
  const norm = (m: Float32Array, rows: number) =>
    Float64Array.from({ length: rows }, (_, r) => {
      let s = 0
      for (let k = 0; k < dim; k++) s += m[r * dim + k]! ** 2
      return s === 0 ? 1 : Math.sqrt(s)
    })
  const na = norm(a, aRows)
  const nb = norm(b, bRows)
  const out = new Float64Array(aRows * bRows)
  for (let i = 0; i < aRows; i++) {
    for (let j = 0; j < bRows; j++) {
      let dot = 0
      for (let k = 0; k < dim; k++) dot += a[i * dim + k]! * b[j * dim + k]!
      out[i * bRows + j] = dot / (na[i]! * nb[j]!)
    }
  }
  return out
}

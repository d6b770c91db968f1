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
export const maskFalseNegatives = (sim: ArrayLike<number> | Float32Array, rows: number, cols: number, options: MaskOptions): Uint8Array => {
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

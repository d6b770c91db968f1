import type { Pooling } from "../Encoder.js"

/**
 * Pools hidden states [rows x seq x dim] (right-padded; row r has lengths[r] real tokens) into
 * out[target[r] * dim ...], accumulating in float64.
 */
export const poolInto = (
  pooling: Pooling,
  hidden: Float32Array,
  rows: number,
  seq: number,
  dim: number,
  lengths: ReadonlyArray<number>,
  out: Float32Array,
  targets: ReadonlyArray<number>,
  normalize: boolean
): void => {
  const acc = new Float64Array(dim)
  for (let r = 0; r < rows; r++) {
    const base = r * seq * dim
    const len = lengths[r]
    if (pooling === "mean") {
      acc.fill(0)
      for (let t = 0; t < len; t++) {
        const o = base + t * dim
        for (let d = 0; d < dim; d++) acc[d] += hidden[o + d]
      }
      for (let d = 0; d < dim; d++) acc[d] /= Math.max(1, len)
    } else {
      const t = pooling === "cls" ? 0 : len - 1
      const o = base + t * dim
      for (let d = 0; d < dim; d++) acc[d] = hidden[o + d]
    }
    let scale = 1
    if (normalize) {
      let s = 0
      for (let d = 0; d < dim; d++) s += acc[d] * acc[d]
      scale = 1 / Math.max(Math.sqrt(s), 1e-12)
    }
    const dst = targets[r] * dim
    for (let d = 0; d < dim; d++) out[dst + d] = acc[d] * scale
  }
}

export type Floats = Float32Array | Float64Array

export interface InfoNceResult {
  /** Mean over anchors of -log softmax(positive) over the unmasked candidates. */
  readonly loss: number
  /** d(loss)/d(anchor rows), before normalisation: [rows x dim]. */
  readonly dAnchors: Floats
  /** d(loss)/d(candidate rows): [cols x dim]. */
  readonly dCandidates: Floats
}

/**
 * Supervised SimCSE InfoNCE with hard negatives and a false-negative mask, fused over raw rows:
 * anchor i's logits are cos(a_i, c_j) / temperature over the candidates c (column i = its
 * positive, then the other positives and the hard negatives); `mask[i * cols + j] = 1` leaves c_j
 * out of anchor i's softmax, the positive never. Gradients flow through the L2 normalisation.
 * Sums run in float64 whatever the storage, so float64 inputs give a float64 reference.
 * (packages/tensor's cosineMatrix + infoNce compute the same in separate float32 passes.)
 */
export const maskedInfoNce = (
  anchors: Floats,
  candidates: Floats,
  rows: number,
  cols: number,
  dim: number,
  mask: Uint8Array | undefined,
  temperature: number
): InfoNceResult => {
  if (anchors.length !== rows * dim || candidates.length !== cols * dim) {
    throw new RangeError(`maskedInfoNce: anchors ${anchors.length}, candidates ${candidates.length} floats; expected ${rows}x${dim} and ${cols}x${dim}`)
  }
  if (cols < rows) throw new RangeError(`maskedInfoNce: ${cols} candidates for ${rows} anchors; column i must be anchor i's positive`)
  if (mask && mask.length !== rows * cols) throw new RangeError(`maskedInfoNce: mask has ${mask.length} entries, expected ${rows}x${cols}`)
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`)
  const F = anchors.constructor as Float32ArrayConstructor
  const normalise = (m: Floats, n: number) => {
    const unit = new F(n * dim)
    const norms = new Float64Array(n)
    for (let r = 0; r < n; r++) {
      let s = 0
      for (let k = 0; k < dim; k++) s += m[r * dim + k]! ** 2
      const norm = Math.max(Math.sqrt(s), 1e-12)
      norms[r] = norm
      for (let k = 0; k < dim; k++) unit[r * dim + k] = m[r * dim + k]! / norm
    }
    return { unit, norms }
  }
  const a = normalise(anchors, rows)
  const c = normalise(candidates, cols)
  // g = d(loss)/d(logits) = (softmax - onehot(positive)) / rows over unmasked entries.
  const g = new Float64Array(rows * cols)
  const logits = new Float64Array(cols)
  const excluded = (i: number, j: number) => j !== i && mask !== undefined && mask[i * cols + j] !== 0
  let loss = 0
  for (let i = 0; i < rows; i++) {
    let max = -Infinity
    for (let j = 0; j < cols; j++) {
      if (excluded(i, j)) continue
      let s = 0
      for (let k = 0; k < dim; k++) s += a.unit[i * dim + k]! * c.unit[j * dim + k]!
      logits[j] = s / temperature
      if (logits[j]! > max) max = logits[j]!
    }
    let z = 0
    for (let j = 0; j < cols; j++) if (!excluded(i, j)) z += Math.exp(logits[j]! - max)
    const logZ = max + Math.log(z)
    loss += logZ - logits[i]!
    for (let j = 0; j < cols; j++) {
      if (!excluded(i, j)) g[i * cols + j] = (Math.exp(logits[j]! - logZ) - (j === i ? 1 : 0)) / rows
    }
  }
  const dAu = new Float64Array(rows * dim)
  const dCu = new Float64Array(cols * dim)
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const gij = g[i * cols + j]! / temperature
      if (gij === 0) continue
      for (let k = 0; k < dim; k++) {
        dAu[i * dim + k]! += gij * c.unit[j * dim + k]!
        dCu[j * dim + k]! += gij * a.unit[i * dim + k]!
      }
    }
  }
  // Through u = x / |x|: dx = (du - u (u . du)) / |x|.
  const back = (du: Float64Array, u: Floats, norms: Float64Array, n: number) => {
    const dx = new F(n * dim)
    for (let r = 0; r < n; r++) {
      let dot = 0
      for (let k = 0; k < dim; k++) dot += u[r * dim + k]! * du[r * dim + k]!
      for (let k = 0; k < dim; k++) dx[r * dim + k] = (du[r * dim + k]! - u[r * dim + k]! * dot) / norms[r]!
    }
    return dx
  }
  return { loss: loss / rows, dAnchors: back(dAu, a.unit, a.norms, rows), dCandidates: back(dCu, c.unit, c.norms, cols) }
}

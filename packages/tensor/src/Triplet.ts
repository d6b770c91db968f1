/**
 * Cosine triplet loss with margin: L = (1/n) Σ_i max(0, margin − cos(a_i, p_i) + cos(a_i, n_i)),
 * with gradients wrt the raw (unnormalised) anchor, positive and negative embeddings.
 */
import { type Matrix, matrix } from "./Matrix.js"
import { l2Normalize, l2NormalizeBackward } from "./Normalize.js"

export interface TripletOptions {
  readonly margin: number
}

export interface TripletResult {
  readonly loss: number
  readonly dAnchors: Matrix
  readonly dPositives: Matrix
  readonly dNegatives: Matrix
  /** Fraction of triplets with cos(a, p) > cos(a, n). */
  readonly accuracy: number
}

export const tripletCosineLoss = (anchors: Matrix, positives: Matrix, negatives: Matrix, options: TripletOptions): TripletResult => {
  const { rows: n, cols: d } = anchors
  for (const [name, x] of [["positives", positives], ["negatives", negatives]] as const) {
    if (x.rows !== n || x.cols !== d) throw new RangeError(`tripletCosineLoss: ${name} is ${x.rows} x ${x.cols}, expected ${n} x ${d} like anchors`)
  }
  if (n === 0) throw new RangeError("tripletCosineLoss: empty batch")
  if (!Number.isFinite(options.margin)) throw new RangeError(`tripletCosineLoss: margin must be finite, got ${options.margin}`)
  const a = l2Normalize(anchors), p = l2Normalize(positives), q = l2Normalize(negatives)
  const dA = matrix(n, d), dP = matrix(n, d), dN = matrix(n, d)
  let loss = 0
  let correct = 0
  for (let i = 0; i < n; i++) {
    const o = i * d
    let sp = 0, sn = 0
    for (let k = 0; k < d; k++) {
      sp += a.y.data[o + k] * p.y.data[o + k]
      sn += a.y.data[o + k] * q.y.data[o + k]
    }
    if (sp > sn) correct++
    const l = options.margin - sp + sn
    if (l <= 0) continue
    loss += l
    // dL/dsp = −1/n, dL/dsn = +1/n
    for (let k = 0; k < d; k++) {
      dA.data[o + k] = (q.y.data[o + k] - p.y.data[o + k]) / n
      dP.data[o + k] = -a.y.data[o + k] / n
      dN.data[o + k] = a.y.data[o + k] / n
    }
  }
  return {
    loss: loss / n,
    dAnchors: l2NormalizeBackward(a, dA),
    dPositives: l2NormalizeBackward(p, dP),
    dNegatives: l2NormalizeBackward(q, dN),
    accuracy: correct / n
  }
}

/**
 * InfoNCE over a query x candidate score matrix S (typically cosine similarities):
 *
 *   L = (1/n) Σ_i −log( exp(S[i,p_i]/τ) / Σ_{j ∉ M_i} exp(S[i,j]/τ) )
 *
 * where p_i is row i's positive column and M_i the masked (excluded) negatives of row i. The positive
 * is never excluded, even if the mask marks it (masks built from teacher similarity usually do).
 * Gradient: dS[i,j] = (softmax_i(j) − [j = p_i]) / (nτ) on unmasked entries, 0 on masked ones.
 */
import { type LossResult } from "./Loss.js"
import { type Matrix, matrix } from "./Matrix.js"
import { checkMask, checkTemperature } from "./internal/checks.js"
import { logSoftmaxRow } from "./internal/logSoftmaxRow.js"

export interface InfoNceOptions {
  readonly temperature: number
  /** Column of each row's positive; default the diagonal (row i -> column i). */
  readonly positives?: ArrayLike<number>
  /** rows*cols bytes, row-major; non-zero = that candidate is excluded from the row's denominator. */
  readonly mask?: Uint8Array
}

export interface InfoNceResult extends LossResult {
  /** Fraction of rows whose positive scores at least as high as every unmasked candidate. */
  readonly accuracy: number
}

export const infoNce = (scores: Matrix, options: InfoNceOptions): InfoNceResult => {
  const { rows: n, cols: m, data: s } = scores
  const tau = options.temperature
  checkTemperature(tau, "infoNce")
  checkMask(scores, options.mask, "infoNce")
  if (n === 0) throw new RangeError("infoNce: the score matrix has no rows")
  const positives = options.positives
  if (positives !== undefined && positives.length !== n) {
    throw new RangeError(`infoNce: ${positives.length} positives given for ${n} rows`)
  }
  if (positives === undefined && m < n) {
    throw new RangeError(`infoNce: diagonal positives need cols ≥ rows, got ${n} x ${m}; pass positives`)
  }
  const grad = matrix(n, m)
  const rowMask = options.mask === undefined ? undefined : new Uint8Array(m)
  const logp = new Float64Array(m)
  let loss = 0
  let correct = 0
  for (let i = 0; i < n; i++) {
    const p = positives === undefined ? i : positives[i]
    if (!Number.isInteger(p) || p < 0 || p >= m) throw new RangeError(`infoNce: positive of row ${i} is ${p}, expected a column in 0..${m - 1}`)
    const o = i * m
    if (rowMask !== undefined) {
      rowMask.set(options.mask!.subarray(o, o + m))
      rowMask[p] = 0
    }
    logSoftmaxRow(s, o, m, tau, rowMask, 0, logp, 0, i)
    loss -= logp[p]
    let best = true
    for (let j = 0; j < m; j++) {
      if (logp[j] === -Infinity) continue
      grad.data[o + j] = (Math.exp(logp[j]) - (j === p ? 1 : 0)) / (n * tau)
      if (j !== p && s[o + j] > s[o + p]) best = false
    }
    if (best) correct++
  }
  return { loss: loss / n, grad, accuracy: correct / n }
}

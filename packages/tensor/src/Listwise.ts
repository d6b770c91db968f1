/**
 * Listwise cross-entropy (ListNet top-one): each row's non-negative relevance targets are normalised
 * to a distribution y and L = −(1/n) Σ_i Σ_j y_ij log softmax(S[i]/τ)_j.
 * Gradient: dS[i,j] = (softmax_i(j) − y_ij) / (nτ). Masked entries are excluded and must have target 0.
 */
import { type LossResult } from "./Loss.js"
import { type Matrix, matrix } from "./Matrix.js"
import { checkMask, checkTemperature } from "./internal/checks.js"
import { logSoftmaxRow } from "./internal/logSoftmaxRow.js"

export interface ListwiseOptions {
  /** Default 1. */
  readonly temperature?: number
  readonly mask?: Uint8Array
}

export const listwiseCrossEntropy = (scores: Matrix, targets: Matrix, options: ListwiseOptions = {}): LossResult => {
  const { rows: n, cols: m } = scores
  if (targets.rows !== n || targets.cols !== m) {
    throw new RangeError(`listwiseCrossEntropy: targets are ${targets.rows} x ${targets.cols}, expected ${n} x ${m} like the scores`)
  }
  if (n === 0) throw new RangeError("listwiseCrossEntropy: no rows")
  const tau = options.temperature ?? 1
  checkTemperature(tau, "listwiseCrossEntropy")
  checkMask(scores, options.mask, "listwiseCrossEntropy")
  const mask = options.mask
  const grad = matrix(n, m)
  const logp = new Float64Array(m)
  let loss = 0
  for (let i = 0; i < n; i++) {
    const o = i * m
    let total = 0
    for (let j = 0; j < m; j++) {
      const t = targets.data[o + j]
      if (!(t >= 0) || !Number.isFinite(t)) throw new RangeError(`listwiseCrossEntropy: target [${i}, ${j}] is ${t}; targets must be finite and ≥ 0`)
      if (t > 0 && mask !== undefined && mask[o + j] !== 0) throw new RangeError(`listwiseCrossEntropy: target [${i}, ${j}] is ${t} but the entry is masked`)
      total += t
    }
    if (total === 0) throw new RangeError(`listwiseCrossEntropy: row ${i} has no positive target`)
    logSoftmaxRow(scores.data, o, m, tau, mask, o, logp, 0, i)
    for (let j = 0; j < m; j++) {
      if (logp[j] === -Infinity) continue
      const y = targets.data[o + j] / total
      if (y > 0) loss -= y * logp[j]
      grad.data[o + j] = (Math.exp(logp[j]) - y) / (n * tau)
    }
  }
  return { loss: loss / n, grad }
}

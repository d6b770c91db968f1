/**
 * Row-wise softmax and log-softmax of x/τ, numerically stable (the row maximum is subtracted) and
 * computed in float64 per row. An optional mask (one byte per element, non-zero = excluded) removes
 * entries from the normaliser: excluded entries get probability 0 (log-probability -Infinity).
 */
import { assertShape, type Matrix, matrix } from "./Matrix.js"
import { checkMask, checkTemperature } from "./internal/checks.js"
import { logSoftmaxRow } from "./internal/logSoftmaxRow.js"

/** softmax(x/τ) per row. */
export const softmaxRows = (x: Matrix, temperature = 1, mask?: Uint8Array): Matrix => {
  checkTemperature(temperature, "softmaxRows")
  checkMask(x, mask, "softmaxRows")
  const out = logSoftmaxRows(x, temperature, mask)
  const d = out.data
  for (let i = 0; i < d.length; i++) d[i] = Math.exp(d[i])
  return out
}

/** log-softmax(x/τ) per row; masked entries are -Infinity. */
export const logSoftmaxRows = (x: Matrix, temperature = 1, mask?: Uint8Array): Matrix => {
  checkTemperature(temperature, "logSoftmaxRows")
  checkMask(x, mask, "logSoftmaxRows")
  const out = matrix(x.rows, x.cols)
  for (let i = 0; i < x.rows; i++) logSoftmaxRow(x.data, i * x.cols, x.cols, temperature, mask, i * x.cols, out.data, i * x.cols, i)
  return out
}

/** Given y = softmax(x/τ) and dL/dy, returns dL/dx = y ∘ (dy − ⟨y, dy⟩) / τ. */
export const softmaxBackward = (y: Matrix, dY: Matrix, temperature = 1): Matrix => {
  assertShape(dY, y.rows, y.cols, "softmaxBackward dY")
  const dX = matrix(y.rows, y.cols)
  const n = y.cols
  for (let i = 0; i < y.rows; i++) {
    const o = i * n
    let dot = 0
    for (let j = 0; j < n; j++) dot += y.data[o + j] * dY.data[o + j]
    for (let j = 0; j < n; j++) dX.data[o + j] = (y.data[o + j] * (dY.data[o + j] - dot)) / temperature
  }
  return dX
}

/**
 * Given l = log-softmax(x/τ) and dL/dl, returns dL/dx = (dl − softmax · Σ dl) / τ. Masked entries
 * (l = -Infinity) get gradient 0.
 */
export const logSoftmaxBackward = (logY: Matrix, dY: Matrix, temperature = 1): Matrix => {
  assertShape(dY, logY.rows, logY.cols, "logSoftmaxBackward dY")
  const dX = matrix(logY.rows, logY.cols)
  const n = logY.cols
  for (let i = 0; i < logY.rows; i++) {
    const o = i * n
    let sum = 0
    for (let j = 0; j < n; j++) if (logY.data[o + j] !== -Infinity) sum += dY.data[o + j]
    for (let j = 0; j < n; j++) {
      const l = logY.data[o + j]
      dX.data[o + j] = l === -Infinity ? 0 : (dY.data[o + j] - Math.exp(l) * sum) / temperature
    }
  }
  return dX
}

/**
 * Row-wise L2 normalisation y = x / max(‖x‖, ε) and its backward
 * dx = (dy − y⟨y, dy⟩) / ‖x‖ (or dy / ε where the clamp is active, since y = x/ε is linear there).
 */
import { assertShape, type Matrix, matrix } from "./Matrix.js"

export interface L2Normalized {
  readonly y: Matrix
  /** ‖x_i‖ before clamping. */
  readonly norms: Float64Array
  readonly eps: number
}

export const l2Normalize = (x: Matrix, eps = 1e-12): L2Normalized => {
  const y = matrix(x.rows, x.cols)
  const norms = new Float64Array(x.rows)
  const n = x.cols
  for (let i = 0; i < x.rows; i++) {
    const o = i * n
    let s = 0
    for (let j = 0; j < n; j++) s += x.data[o + j] * x.data[o + j]
    const norm = Math.sqrt(s)
    norms[i] = norm
    const inv = 1 / Math.max(norm, eps)
    for (let j = 0; j < n; j++) y.data[o + j] = x.data[o + j] * inv
  }
  return { y, norms, eps }
}

export const l2NormalizeBackward = (normalized: L2Normalized, dY: Matrix): Matrix => {
  const { y, norms, eps } = normalized
  assertShape(dY, y.rows, y.cols, "l2NormalizeBackward dY")
  const dX = matrix(y.rows, y.cols)
  const n = y.cols
  for (let i = 0; i < y.rows; i++) {
    const o = i * n
    const norm = norms[i]
    if (norm <= eps) {
      for (let j = 0; j < n; j++) dX.data[o + j] = dY.data[o + j] / eps
      continue
    }
    let dot = 0
    for (let j = 0; j < n; j++) dot += y.data[o + j] * dY.data[o + j]
    const inv = 1 / norm
    for (let j = 0; j < n; j++) dX.data[o + j] = (dY.data[o + j] - y.data[o + j] * dot) * inv
  }
  return dX
}

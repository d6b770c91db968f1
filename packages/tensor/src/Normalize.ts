/**
 * Row-wise L2 normalisation y = x / max(‖x‖, ε) and its backward
 * dx = (dy − y⟨y, dy⟩) / ‖x‖ (or dy / ε where the clamp is active, since y = x/ε is linear there).
 */
import { getBackend } from "./Backend.js"
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
  getBackend().l2NormalizeRows(x.rows, x.cols, x.data, y.data, norms, eps)
  return { y, norms, eps }
}

export const l2NormalizeBackward = (normalized: L2Normalized, dY: Matrix): Matrix => {
  const { y, norms, eps } = normalized
  assertShape(dY, y.rows, y.cols, "l2NormalizeBackward dY")
  const dX = matrix(y.rows, y.cols)
  getBackend().l2NormalizeRowsBackward(y.rows, y.cols, y.data, dY.data, norms, eps, dX.data)
  return dX
}

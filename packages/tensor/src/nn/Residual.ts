/** Residual connection y = a + b (backward: dY flows unchanged to both branches). */
import { type Matrix, matrix } from "../Matrix.js"

export const addResidual = (a: Matrix, b: Matrix): Matrix => {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new RangeError(`residual add: ${a.rows} x ${a.cols} + ${b.rows} x ${b.cols}`)
  const y = matrix(a.rows, a.cols)
  for (let i = 0; i < y.data.length; i++) y.data[i] = a.data[i] + b.data[i]
  return y
}

/** a += b in place (summing the gradients of a residual's two branches). */
export const accumulateInto = (a: Matrix, b: Matrix): Matrix => {
  if (a.data.length !== b.data.length) throw new RangeError(`residual gradient: ${a.rows} x ${a.cols} += ${b.rows} x ${b.cols}`)
  for (let i = 0; i < a.data.length; i++) a.data[i] += b.data[i]
  return a
}

/** What every loss returns: the scalar (mean over examples) and its gradient wrt the loss's input. */
import { type Matrix } from "./Matrix.js"

export interface LossResult {
  readonly loss: number
  /** dLoss/dInput, same shape as the input scores. */
  readonly grad: Matrix
}

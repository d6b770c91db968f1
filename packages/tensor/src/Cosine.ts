/**
 * Cosine-similarity matrix S[i, j] = cos(a_i, b_j) = â_i·b̂_jᵀ with backward
 * dâ = dS·b̂, db̂ = dSᵀ·â, then through the two L2 normalisations.
 */
import { type Matrix } from "./Matrix.js"
import { matmul, matmulABt, matmulAtB } from "./Matmul.js"
import { type L2Normalized, l2Normalize, l2NormalizeBackward } from "./Normalize.js"

export interface CosineMatrix {
  /** a.rows x b.rows */
  readonly scores: Matrix
  readonly a: L2Normalized
  readonly b: L2Normalized
}

export const cosineMatrix = (a: Matrix, b: Matrix, eps = 1e-12): CosineMatrix => {
  if (a.cols !== b.cols) throw new RangeError(`cosineMatrix: a has ${a.cols} columns and b has ${b.cols}; they must match`)
  const an = l2Normalize(a, eps)
  const bn = l2Normalize(b, eps)
  return { scores: matmulABt(an.y, bn.y), a: an, b: bn }
}

export const cosineMatrixBackward = (c: CosineMatrix, dScores: Matrix): { readonly dA: Matrix; readonly dB: Matrix } => {
  const dAn = matmul(dScores, c.b.y)
  const dBn = matmulAtB(dScores, c.a.y)
  return { dA: l2NormalizeBackward(c.a, dAn), dB: l2NormalizeBackward(c.b, dBn) }
}

/**
 * Matrix products on row-major float32 storage, in the three layouts training needs:
 *
 * - `matmul(A, B)`    = A·B    (A: m x k, B: k x n)  forward of x·W
 * - `matmulABt(A, B)` = A·Bᵀ   (A: m x k, B: n x k)  similarity matrices, dX = dY·Wᵀ
 * - `matmulAtB(A, B)` = Aᵀ·B   (A: k x m, B: k x n)  weight gradients dW = Xᵀ·dY
 *
 * Each is one sgemm on the compute backend (`getBackend()`: OpenBLAS through the native addon, or the
 * TypeScript kernels). Options: `out` (written in place), `accumulate` (C += alpha·op instead of
 * C = alpha·op) and `alpha` (a scale folded into the kernel; used for residual scales and
 * mean-reduced gradients).
 */
import { getBackend } from "./Backend.js"
import { assertShape, type Matrix, matrix } from "./Matrix.js"

export interface MatmulOptions {
  readonly out?: Matrix
  readonly accumulate?: boolean
  readonly alpha?: number
}

const overlaps = (x: Float32Array, y: Float32Array): boolean =>
  x.buffer === y.buffer && x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength

const prepareOut = (a: Matrix, b: Matrix, m: number, n: number, options: MatmulOptions | undefined, what: string): Matrix => {
  const out = options?.out
  if (out === undefined) return matrix(m, n)
  assertShape(out, m, n, `${what} out`)
  // The kernels read A and B while writing C: an aliased output would read partial results.
  if (overlaps(out.data, a.data) || overlaps(out.data, b.data)) throw new RangeError(`${what}: out must not share memory with A or B`)
  return out
}

/** C = alpha·op(A)·op(B) (+ C when accumulating into `out`) on the backend. */
const gemm = (transA: boolean, transB: boolean, a: Matrix, b: Matrix, c: Matrix, k: number, options: MatmulOptions | undefined): Matrix => {
  getBackend().sgemm({
    transA, transB, m: c.rows, n: c.cols, k, alpha: options?.alpha ?? 1,
    a: a.data, aOffset: 0, lda: Math.max(1, a.cols),
    b: b.data, bOffset: 0, ldb: Math.max(1, b.cols),
    beta: options?.out !== undefined && options.accumulate === true ? 1 : 0,
    c: c.data, cOffset: 0, ldc: Math.max(1, c.cols)
  })
  return c
}

/** C = alpha·A·B (+ C when accumulating). A: m x k, B: k x n. */
export const matmul = (a: Matrix, b: Matrix, options?: MatmulOptions): Matrix => {
  if (a.cols !== b.rows) {
    throw new RangeError(`matmul: A is ${a.rows} x ${a.cols} and B is ${b.rows} x ${b.cols}; A.cols must equal B.rows`)
  }
  return gemm(false, false, a, b, prepareOut(a, b, a.rows, b.cols, options, "matmul"), a.cols, options)
}

/** C = alpha·Aᵀ·B (+ C when accumulating). A: k x m, B: k x n, C: m x n. */
export const matmulAtB = (a: Matrix, b: Matrix, options?: MatmulOptions): Matrix => {
  if (a.rows !== b.rows) {
    throw new RangeError(`matmulAtB: A is ${a.rows} x ${a.cols} and B is ${b.rows} x ${b.cols}; A.rows must equal B.rows`)
  }
  return gemm(true, false, a, b, prepareOut(a, b, a.cols, b.cols, options, "matmulAtB"), a.rows, options)
}

/** C = alpha·A·Bᵀ (+ C when accumulating). A: m x k, B: n x k, C: m x n. */
export const matmulABt = (a: Matrix, b: Matrix, options?: MatmulOptions): Matrix => {
  if (a.cols !== b.cols) {
    throw new RangeError(`matmulABt: A is ${a.rows} x ${a.cols} and B is ${b.rows} x ${b.cols}; A.cols must equal B.cols`)
  }
  return gemm(false, true, a, b, prepareOut(a, b, a.rows, b.rows, options, "matmulABt"), a.cols, options)
}

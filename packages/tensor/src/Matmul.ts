/**
 * Matrix products on row-major float32 storage, in the three layouts training needs:
 *
 * - `matmul(A, B)`    = A·B    (A: m x k, B: k x n)  forward of x·W
 * - `matmulABt(A, B)` = A·Bᵀ   (A: m x k, B: n x k)  similarity matrices, dX = dY·Wᵀ
 * - `matmulAtB(A, B)` = Aᵀ·B   (A: k x m, B: k x n)  weight gradients dW = Xᵀ·dY
 *
 * Every innermost loop walks contiguous memory. A·B and Aᵀ·B are "axpy" kernels: a 4x4 register
 * tile of A scalars (4 output rows x 4 reduction steps) is applied to 4 contiguous rows of B, so each
 * loaded B element feeds 4 multiply-adds and each C element is read/written once per 4 steps of k.
 * A·Bᵀ is a dot-product kernel over a 2 x 4 tile of (A rows, B rows) with 8 accumulators.
 * Loops are blocked over columns and k so the B panel stays in L2 and the C rows in L1.
 *
 * Options: `out` (written in place), `accumulate` (C += alpha·op instead of C = alpha·op) and
 * `alpha` (a scale folded into the kernel; used for residual scales and mean-reduced gradients).
 */
import { assertShape, type Matrix, matrix } from "./Matrix.js"

export interface MatmulOptions {
  readonly out?: Matrix
  readonly accumulate?: boolean
  readonly alpha?: number
}

/** Column block for the axpy kernels: 4 C rows x 256 floats = 4 KiB stays in L1. */
const NB = 256
/** Reduction block: a 256 x 256 float B panel (256 KiB) stays in L2. */
const KB = 256
/** B-row block for the dot kernel: 64 rows x k floats are reused by every A row. */
const JB = 64

const overlaps = (x: Float32Array, y: Float32Array): boolean =>
  x.buffer === y.buffer && x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength

const prepareOut = (a: Matrix, b: Matrix, m: number, n: number, options: MatmulOptions | undefined, what: string): Matrix => {
  const out = options?.out
  if (out === undefined) return matrix(m, n)
  assertShape(out, m, n, `${what} out`)
  // The kernels read A and B while writing C: an aliased output would read partial results.
  if (overlaps(out.data, a.data) || overlaps(out.data, b.data)) throw new RangeError(`${what}: out must not share memory with A or B`)
  if (!options?.accumulate) out.data.fill(0)
  return out
}

/** C = alpha·A·B (+ C when accumulating). A: m x k, B: k x n. */
export const matmul = (a: Matrix, b: Matrix, options?: MatmulOptions): Matrix => {
  if (a.cols !== b.rows) {
    throw new RangeError(`matmul: A is ${a.rows} x ${a.cols} and B is ${b.rows} x ${b.cols}; A.cols must equal B.rows`)
  }
  const c = prepareOut(a, b, a.rows, b.cols, options, "matmul")
  axpyKernel(a.data, a.cols, 1, b.data, c.data, a.rows, a.cols, b.cols, options?.alpha ?? 1)
  return c
}

/** C = alpha·Aᵀ·B (+ C when accumulating). A: k x m, B: k x n, C: m x n. */
export const matmulAtB = (a: Matrix, b: Matrix, options?: MatmulOptions): Matrix => {
  if (a.rows !== b.rows) {
    throw new RangeError(`matmulAtB: A is ${a.rows} x ${a.cols} and B is ${b.rows} x ${b.cols}; A.rows must equal B.rows`)
  }
  const c = prepareOut(a, b, a.cols, b.cols, options, "matmulAtB")
  // Aᵀ[i, p] = A[p, i]: row stride 1, reduction stride m.
  axpyKernel(a.data, 1, a.cols, b.data, c.data, a.cols, a.rows, b.cols, options?.alpha ?? 1)
  return c
}

/** C = alpha·A·Bᵀ (+ C when accumulating). A: m x k, B: n x k, C: m x n. */
export const matmulABt = (a: Matrix, b: Matrix, options?: MatmulOptions): Matrix => {
  if (a.cols !== b.cols) {
    throw new RangeError(`matmulABt: A is ${a.rows} x ${a.cols} and B is ${b.rows} x ${b.cols}; A.cols must equal B.cols`)
  }
  const c = prepareOut(a, b, a.rows, b.rows, options, "matmulABt")
  dotKernel(a.data, b.data, c.data, a.rows, a.cols, b.rows, options?.alpha ?? 1)
  return c
}

/**
 * C[i, j] += alpha · Σ_p A(i, p)·B[p, j] where A(i, p) = a[i*rs + p*ps] (so one kernel serves A and
 * Aᵀ), B is k x n row-major and C is m x n row-major (already zeroed or holding the accumulator).
 */
const axpyKernel = (
  a: Float32Array, rs: number, ps: number, b: Float32Array, c: Float32Array,
  m: number, k: number, n: number, alpha: number
): void => {
  for (let j0 = 0; j0 < n; j0 += NB) {
    const j1 = Math.min(n, j0 + NB)
    for (let p0 = 0; p0 < k; p0 += KB) {
      const p1 = Math.min(k, p0 + KB)
      let i = 0
      for (; i + 3 < m; i += 4) {
        const r0 = i * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n
        const a0 = i * rs, a1 = a0 + rs, a2 = a1 + rs, a3 = a2 + rs
        let p = p0
        for (; p + 3 < p1; p += 4) {
          const q0 = p * ps, q1 = q0 + ps, q2 = q1 + ps, q3 = q2 + ps
          const x00 = alpha * a[a0 + q0], x01 = alpha * a[a0 + q1], x02 = alpha * a[a0 + q2], x03 = alpha * a[a0 + q3]
          const x10 = alpha * a[a1 + q0], x11 = alpha * a[a1 + q1], x12 = alpha * a[a1 + q2], x13 = alpha * a[a1 + q3]
          const x20 = alpha * a[a2 + q0], x21 = alpha * a[a2 + q1], x22 = alpha * a[a2 + q2], x23 = alpha * a[a2 + q3]
          const x30 = alpha * a[a3 + q0], x31 = alpha * a[a3 + q1], x32 = alpha * a[a3 + q2], x33 = alpha * a[a3 + q3]
          const b0 = p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n
          for (let j = j0; j < j1; j++) {
            const v0 = b[b0 + j], v1 = b[b1 + j], v2 = b[b2 + j], v3 = b[b3 + j]
            c[r0 + j] += x00 * v0 + x01 * v1 + x02 * v2 + x03 * v3
            c[r1 + j] += x10 * v0 + x11 * v1 + x12 * v2 + x13 * v3
            c[r2 + j] += x20 * v0 + x21 * v1 + x22 * v2 + x23 * v3
            c[r3 + j] += x30 * v0 + x31 * v1 + x32 * v2 + x33 * v3
          }
        }
        for (; p < p1; p++) {
          const q = p * ps
          const x0 = alpha * a[a0 + q], x1 = alpha * a[a1 + q], x2 = alpha * a[a2 + q], x3 = alpha * a[a3 + q]
          const b0 = p * n
          for (let j = j0; j < j1; j++) {
            const v = b[b0 + j]
            c[r0 + j] += x0 * v
            c[r1 + j] += x1 * v
            c[r2 + j] += x2 * v
            c[r3 + j] += x3 * v
          }
        }
      }
      for (; i < m; i++) {
        const r0 = i * n, a0 = i * rs
        for (let p = p0; p < p1; p++) {
          const x = alpha * a[a0 + p * ps]
          const b0 = p * n
          for (let j = j0; j < j1; j++) c[r0 + j] += x * b[b0 + j]
        }
      }
    }
  }
}

/** C[i, j] += alpha · dot(A[i, :], B[j, :]); A: m x k, B: n x k, C: m x n. */
const dotKernel = (a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number, alpha: number): void => {
  for (let j0 = 0; j0 < n; j0 += JB) {
    const j1 = Math.min(n, j0 + JB)
    let i = 0
    for (; i + 1 < m; i += 2) {
      const a0 = i * k, a1 = a0 + k
      const o0 = i * n, o1 = o0 + n
      let j = j0
      for (; j + 3 < j1; j += 4) {
        const b0 = j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0
        for (let p = 0; p < k; p++) {
          const u = a[a0 + p], w = a[a1 + p]
          const v0 = b[b0 + p], v1 = b[b1 + p], v2 = b[b2 + p], v3 = b[b3 + p]
          s0 += u * v0; s1 += u * v1; s2 += u * v2; s3 += u * v3
          t0 += w * v0; t1 += w * v1; t2 += w * v2; t3 += w * v3
        }
        c[o0 + j] += alpha * s0; c[o0 + j + 1] += alpha * s1; c[o0 + j + 2] += alpha * s2; c[o0 + j + 3] += alpha * s3
        c[o1 + j] += alpha * t0; c[o1 + j + 1] += alpha * t1; c[o1 + j + 2] += alpha * t2; c[o1 + j + 3] += alpha * t3
      }
      for (; j < j1; j++) {
        const b0 = j * k
        let s = 0, t = 0
        for (let p = 0; p < k; p++) {
          const v = b[b0 + p]
          s += a[a0 + p] * v
          t += a[a1 + p] * v
        }
        c[o0 + j] += alpha * s
        c[o1 + j] += alpha * t
      }
    }
    for (; i < m; i++) {
      const a0 = i * k, o0 = i * n
      for (let j = j0; j < j1; j++) {
        const b0 = j * k
        let s = 0
        for (let p = 0; p < k; p++) s += a[a0 + p] * b[b0 + p]
        c[o0 + j] += alpha * s
      }
    }
  }
}

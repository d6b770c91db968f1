/**
 * The pure-TypeScript backend: single-threaded kernels that need nothing but a JavaScript engine.
 *
 * Every innermost loop walks contiguous memory. op(A)·B (B not transposed) is an "axpy" kernel: a
 * 4x4 register tile of A scalars (4 output rows x 4 reduction steps) is applied to 4 contiguous rows
 * of B, so each loaded B element feeds 4 multiply-adds and each C element is read/written once per 4
 * steps of k; one kernel serves A and Aᵀ through its two strides. A·Bᵀ is a dot-product kernel over a
 * 2 x 4 tile of (A rows, B rows) with 8 accumulators. Loops are blocked over columns and k so the B
 * panel stays in L2 and the C rows in L1. Aᵀ·Bᵀ (unused by the layers) is a plain strided loop.
 */
import type { Backend, BatchedSgemmArgs, SgemmArgs } from "../Backend.js"
import { erf } from "./erf.js"
import { checkAdamw, checkBatched, checkDropout, checkElementwise, checkLayerNorm, checkRows, checkSgemm, checkVector } from "./sgemmChecks.js"

const INV_SQRT2 = Math.SQRT1_2
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI)

/** Column block for the axpy kernel: 4 C rows x 256 floats = 4 KiB stays in L1. */
const NB = 256
/** Reduction block: a 256 x 256 float B panel (256 KiB) stays in L2. */
const KB = 256
/** B-row block for the dot kernel: 64 rows x k floats are reused by every A row. */
const JB = 64

/** C ← beta·C over the m x n window (beta = 0 overwrites, as BLAS does, so NaNs in C do not survive). */
const scaleC = (c: Float32Array, c0: number, ldc: number, m: number, n: number, beta: number): void => {
  if (beta === 1) return
  for (let i = 0; i < m; i++) {
    const r = c0 + i * ldc
    if (beta === 0) c.fill(0, r, r + n)
    else for (let j = r; j < r + n; j++) c[j] *= beta
  }
}

/**
 * C(i, j) += alpha · Σ_p A(i, p)·B(p, j) with A(i, p) = a[a0 + i*rs + p*ps], B(p, j) = b[b0 + p*ldb + j],
 * C(i, j) = c[c0 + i*ldc + j].
 */
const axpyKernel = (
  a: Float32Array, a0: number, rs: number, ps: number, b: Float32Array, bo: number, ldb: number, c: Float32Array, co: number, ldc: number,
  m: number, k: number, n: number, alpha: number
): void => {
  for (let j0 = 0; j0 < n; j0 += NB) {
    const j1 = Math.min(n, j0 + NB)
    for (let p0 = 0; p0 < k; p0 += KB) {
      const p1 = Math.min(k, p0 + KB)
      let i = 0
      for (; i + 3 < m; i += 4) {
        const r0 = co + i * ldc, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc
        const i0 = a0 + i * rs, i1 = i0 + rs, i2 = i1 + rs, i3 = i2 + rs
        let p = p0
        for (; p + 3 < p1; p += 4) {
          const q0 = p * ps, q1 = q0 + ps, q2 = q1 + ps, q3 = q2 + ps
          const x00 = alpha * a[i0 + q0], x01 = alpha * a[i0 + q1], x02 = alpha * a[i0 + q2], x03 = alpha * a[i0 + q3]
          const x10 = alpha * a[i1 + q0], x11 = alpha * a[i1 + q1], x12 = alpha * a[i1 + q2], x13 = alpha * a[i1 + q3]
          const x20 = alpha * a[i2 + q0], x21 = alpha * a[i2 + q1], x22 = alpha * a[i2 + q2], x23 = alpha * a[i2 + q3]
          const x30 = alpha * a[i3 + q0], x31 = alpha * a[i3 + q1], x32 = alpha * a[i3 + q2], x33 = alpha * a[i3 + q3]
          const b0 = bo + p * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb
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
          const x0 = alpha * a[i0 + q], x1 = alpha * a[i1 + q], x2 = alpha * a[i2 + q], x3 = alpha * a[i3 + q]
          const b0 = bo + p * ldb
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
        const r0 = co + i * ldc, i0 = a0 + i * rs
        for (let p = p0; p < p1; p++) {
          const x = alpha * a[i0 + p * ps]
          const b0 = bo + p * ldb
          for (let j = j0; j < j1; j++) c[r0 + j] += x * b[b0 + j]
        }
      }
    }
  }
}

/** C(i, j) += alpha · dot(A[i, :], B[j, :]); A rows lda apart, B rows ldb apart (A·Bᵀ). */
const dotKernel = (
  a: Float32Array, ao: number, lda: number, b: Float32Array, bo: number, ldb: number, c: Float32Array, co: number, ldc: number,
  m: number, k: number, n: number, alpha: number
): void => {
  for (let j0 = 0; j0 < n; j0 += JB) {
    const j1 = Math.min(n, j0 + JB)
    let i = 0
    for (; i + 1 < m; i += 2) {
      const a0 = ao + i * lda, a1 = a0 + lda
      const o0 = co + i * ldc, o1 = o0 + ldc
      let j = j0
      for (; j + 3 < j1; j += 4) {
        const b0 = bo + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb
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
        const b0 = bo + j * ldb
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
      const a0 = ao + i * lda, o0 = co + i * ldc
      for (let j = j0; j < j1; j++) {
        const b0 = bo + j * ldb
        let s = 0
        for (let p = 0; p < k; p++) s += a[a0 + p] * b[b0 + p]
        c[o0 + j] += alpha * s
      }
    }
  }
}

/** C(i, j) += alpha · Σ_p A[p, i]·B[j, p] (Aᵀ·Bᵀ). */
const transposedBothKernel = (
  a: Float32Array, ao: number, lda: number, b: Float32Array, bo: number, ldb: number, c: Float32Array, co: number, ldc: number,
  m: number, k: number, n: number, alpha: number
): void => {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const b0 = bo + j * ldb
      let s = 0
      for (let p = 0; p < k; p++) s += a[ao + p * lda + i] * b[b0 + p]
      c[co + i * ldc + j] += alpha * s
    }
  }
}

const gemm = (g: SgemmArgs, aShift: number, bShift: number, cShift: number): void => {
  const { m, n, k, alpha } = g
  if (m === 0 || n === 0) return
  const a0 = g.aOffset + aShift, b0 = g.bOffset + bShift, c0 = g.cOffset + cShift
  scaleC(g.c, c0, g.ldc, m, n, g.beta)
  if (k === 0 || alpha === 0) return
  if (!g.transB) axpyKernel(g.a, a0, g.transA ? 1 : g.lda, g.transA ? g.lda : 1, g.b, b0, g.ldb, g.c, c0, g.ldc, m, k, n, alpha)
  else if (!g.transA) dotKernel(g.a, a0, g.lda, g.b, b0, g.ldb, g.c, c0, g.ldc, m, k, n, alpha)
  else transposedBothKernel(g.a, a0, g.lda, g.b, b0, g.ldb, g.c, c0, g.ldc, m, k, n, alpha)
}

export const tsBackend: Backend = {
  name: "ts",
  device: "cpu",
  description: "TypeScript kernels (single-threaded)",
  sgemm: (g) => {
    checkSgemm("sgemm", g)
    gemm(g, 0, 0, 0)
  },
  sgemmStridedBatched: (g: BatchedSgemmArgs) => {
    checkBatched("sgemmStridedBatched", g)
    for (let i = 0; i < g.batch; i++) gemm(g, i * g.strideA, i * g.strideB, i * g.strideC)
  },
  axpy: (n, alpha, x, xOffset, y, yOffset) => {
    checkVector("axpy", "x", n, x, xOffset)
    checkVector("axpy", "y", n, y, yOffset)
    for (let i = 0; i < n; i++) y[yOffset + i] += alpha * x[xOffset + i]
  },
  scal: (n, alpha, x, xOffset) => {
    checkVector("scal", "x", n, x, xOffset)
    for (let i = xOffset; i < xOffset + n; i++) x[i] *= alpha
  },
  dot: (n, x, xOffset, y, yOffset) => {
    checkVector("dot", "x", n, x, xOffset)
    checkVector("dot", "y", n, y, yOffset)
    let s = 0
    for (let i = 0; i < n; i++) s += x[xOffset + i] * y[yOffset + i]
    return s
  },
  adamw: (w, g, m, v, h) => {
    checkAdamw(w, g, m, v)
    const { lr, beta1: b1, beta2: b2, eps, c1, c2, decay } = h
    for (let i = 0; i < w.length; i++) {
      const gi = g[i]
      const mi = b1 * m[i] + (1 - b1) * gi
      const vi = b2 * v[i] + (1 - b2) * gi * gi
      m[i] = mi
      v[i] = vi
      w[i] = w[i] * decay - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + eps)
    }
  },
  l2NormalizeRows: (rows, cols, x, y, norms, eps) => {
    checkRows("l2NormalizeRows", rows, cols, norms, ["x", x], ["y", y])
    for (let i = 0; i < rows; i++) {
      const o = i * cols
      let s = 0
      for (let j = 0; j < cols; j++) s += x[o + j] * x[o + j]
      const norm = Math.sqrt(s)
      norms[i] = norm
      const inv = 1 / Math.max(norm, eps)
      for (let j = 0; j < cols; j++) y[o + j] = x[o + j] * inv
    }
  },
  l2NormalizeRowsBackward: (rows, cols, y, dy, norms, eps, dx) => {
    checkRows("l2NormalizeRowsBackward", rows, cols, norms, ["y", y], ["dy", dy], ["dx", dx])
    for (let i = 0; i < rows; i++) {
      const o = i * cols
      const norm = norms[i]
      if (norm <= eps) {
        for (let j = 0; j < cols; j++) dx[o + j] = dy[o + j] / eps
        continue
      }
      let dot = 0
      for (let j = 0; j < cols; j++) dot += y[o + j] * dy[o + j]
      const inv = 1 / norm
      for (let j = 0; j < cols; j++) dx[o + j] = (dy[o + j] - y[o + j] * dot) * inv
    }
  },
  geluErf: (n, x, y) => {
    checkElementwise("geluErf", n, ["x", x], ["y", y])
    for (let i = 0; i < n; i++) {
      const xi = x[i]
      y[i] = 0.5 * xi * (1 + erf(xi * INV_SQRT2))
    }
  },
  geluErfBackward: (n, x, dy, dx) => {
    checkElementwise("geluErfBackward", n, ["x", x], ["dy", dy], ["dx", dx])
    for (let i = 0; i < n; i++) {
      const xi = x[i]
      dx[i] = dy[i] * (0.5 * (1 + erf(xi * INV_SQRT2)) + xi * INV_SQRT_2PI * Math.exp(-0.5 * xi * xi))
    }
  },
  layerNorm: (rows, n, x, g, b, eps, y, xhat, rstd) => {
    checkLayerNorm("layerNorm", rows, n, rstd, [["x", x], ["y", y], ["xhat", xhat]], [["gamma", g], ["beta", b]])
    for (let i = 0; i < rows; i++) {
      const o = i * n
      let mean = 0
      for (let j = 0; j < n; j++) mean += x[o + j]
      mean /= n
      let v = 0
      for (let j = 0; j < n; j++) {
        const d = x[o + j] - mean
        v += d * d
      }
      const r = 1 / Math.sqrt(v / n + eps)
      rstd[i] = r
      for (let j = 0; j < n; j++) {
        const h = (x[o + j] - mean) * r
        if (xhat) xhat[o + j] = h
        y[o + j] = h * g[j] + b[j]
      }
    }
  },
  layerNormBackward: (rows, n, dY, xhat, rstd, gamma, dX, dg, db) => {
    checkLayerNorm("layerNormBackward", rows, n, rstd, [["dy", dY], ["xhat", xhat], ["dx", dX]], [["gamma", gamma], ["dGamma", dg], ["dBeta", db]])
    for (let i = 0; i < rows; i++) {
      const o = i * n
      let sumG = 0, sumGx = 0
      for (let j = 0; j < n; j++) {
        const dy = dY[o + j], h = xhat[o + j]
        const gj = dy * gamma[j]
        sumG += gj
        sumGx += gj * h
        if (dg) dg[j] += dy * h
        if (db) db[j] += dy
      }
      const mG = sumG / n, mGx = sumGx / n, r = rstd[i]
      for (let j = 0; j < n; j++) dX[o + j] = (dY[o + j] * gamma[j] - mG - xhat[o + j] * mGx) * r
    }
  },
  dropout: (n, p, scale, state, x, xOffset, y, yOffset, keep, keepOffset) => {
    checkDropout(n, p, state, x, xOffset, y, yOffset, keep, keepOffset)
    // xoshiro128** on locals (Rng.nextUint32 unrolled), two draws per element as in Rng.next()
    let s0 = state[0] | 0, s1 = state[1] | 0, s2 = state[2] | 0, s3 = state[3] | 0
    for (let i = 0; i < n; i++) {
      let r = Math.imul(s1, 5)
      const a = Math.imul((r << 7) | (r >>> 25), 9) >>> 0
      let t = s1 << 9
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21)
      r = Math.imul(s1, 5)
      const b = Math.imul((r << 7) | (r >>> 25), 9) >>> 0
      t = s1 << 9
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21)
      const u = ((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992
      if (u >= p) {
        keep[keepOffset + i] = 1
        y[yOffset + i] = x[xOffset + i] * scale
      } else {
        keep[keepOffset + i] = 0
        y[yOffset + i] = 0
      }
    }
    state[0] = s0; state[1] = s1; state[2] = s2; state[3] = s3
  },
  threads: () => 1,
  setThreads: (n) => {
    if (n !== 1) throw new RangeError(`setThreads: the TypeScript backend is single-threaded, got ${n} threads`)
  }
}

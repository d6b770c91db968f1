/**
 * Float64 reference implementations, written independently of src/ (plain loops, no shared
 * kernels), and the finite-difference machinery every gradient check uses.
 */
import { expect } from "vitest"
import { type Matrix } from "../src/index.js"

export interface M64 {
  readonly rows: number
  readonly cols: number
  readonly data: Float64Array
}

export const m64 = (rows: number, cols: number, data?: ArrayLike<number>): M64 => ({
  rows, cols, data: data === undefined ? new Float64Array(rows * cols) : Float64Array.from(data)
})
export const to64 = (m: Matrix): M64 => m64(m.rows, m.cols, m.data)
export const at = (m: M64, i: number, j: number): number => m.data[i * m.cols + j]

export const mul = (a: M64, b: M64): M64 => {
  const c = m64(a.rows, b.cols)
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < b.cols; j++) {
    let s = 0
    for (let p = 0; p < a.cols; p++) s += at(a, i, p) * at(b, p, j)
    c.data[i * b.cols + j] = s
  }
  return c
}
export const tr = (a: M64): M64 => {
  const t = m64(a.cols, a.rows)
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) t.data[j * a.rows + i] = at(a, i, j)
  return t
}
export const addRow = (a: M64, b: ArrayLike<number>): M64 => m64(a.rows, a.cols, a.data.map((v, k) => v + b[k % a.cols]))
export const map = (a: M64, f: (v: number) => number): M64 => m64(a.rows, a.cols, a.data.map(f))
export const rowsOf = (a: M64, start: number, end: number): M64 => m64(end - start, a.cols, a.data.slice(start * a.cols, end * a.cols))
export const stack = (...parts: Array<M64>): M64 => {
  const data: Array<number> = []
  for (const p of parts) data.push(...p.data)
  return m64(data.length / parts[0].cols, parts[0].cols, data)
}

export const gelu64 = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))

export const linear64 = (x: M64, w: M64, b?: ArrayLike<number>): M64 => (b ? addRow(mul(x, w), b) : mul(x, w))
export const lowRank64 = (x: M64, down: M64, up: M64, scale: number): M64 => {
  const body = mul(mul(x, down), up)
  return m64(x.rows, x.cols, x.data.map((v, k) => v + scale * body.data[k]))
}
export const mlp64 = (x: M64, w1: M64, b1: ArrayLike<number>, w2: M64, b2: ArrayLike<number>, act: "gelu" | "relu"): M64 =>
  addRow(mul(map(addRow(mul(x, w1), b1), act === "gelu" ? gelu64 : (v) => Math.max(0, v)), w2), b2)

export const normalize64 = (x: M64, eps = 1e-12): M64 => {
  const y = m64(x.rows, x.cols)
  for (let i = 0; i < x.rows; i++) {
    let s = 0
    for (let j = 0; j < x.cols; j++) s += at(x, i, j) ** 2
    const n = Math.max(Math.sqrt(s), eps)
    for (let j = 0; j < x.cols; j++) y.data[i * x.cols + j] = at(x, i, j) / n
  }
  return y
}
export const cosine64 = (a: M64, b: M64): M64 => mul(normalize64(a), tr(normalize64(b)))

const logSumExp = (v: Array<number>): number => {
  const m = Math.max(...v)
  return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0))
}
const logSoftmax64 = (v: Array<number>): Array<number> => {
  const z = logSumExp(v)
  return v.map((x) => x - z)
}

/** Mean over rows of −log p(positive), the denominator over unmasked columns plus the positive. */
export const infoNce64 = (s: M64, tau: number, positives?: ArrayLike<number>, mask?: Uint8Array): number => {
  let loss = 0
  for (let i = 0; i < s.rows; i++) {
    const p = positives ? positives[i] : i
    const kept: Array<number> = []
    for (let j = 0; j < s.cols; j++) if (j === p || !mask || mask[i * s.cols + j] === 0) kept.push(at(s, i, j) / tau)
    loss += logSumExp(kept) - at(s, i, p) / tau
  }
  return loss / s.rows
}
const maskedRow = (m: M64, i: number, mask?: Uint8Array): Array<number> => {
  const out: Array<number> = []
  for (let j = 0; j < m.cols; j++) if (!mask || mask[i * m.cols + j] === 0) out.push(at(m, i, j))
  return out
}
export const kl64 = (student: M64, teacher: M64, ts: number, tt: number, mask?: Uint8Array): number => {
  let loss = 0
  for (let i = 0; i < student.rows; i++) {
    const ls = logSoftmax64(maskedRow(student, i, mask).map((v) => v / ts))
    const lt = logSoftmax64(maskedRow(teacher, i, mask).map((v) => v / tt))
    lt.forEach((l, j) => (loss += Math.exp(l) * (l - ls[j])))
  }
  return loss / student.rows
}
export const listwise64 = (s: M64, targets: M64, tau: number, mask?: Uint8Array): number => {
  let loss = 0
  for (let i = 0; i < s.rows; i++) {
    const ls = logSoftmax64(maskedRow(s, i, mask).map((v) => v / tau))
    const y = maskedRow(targets, i, mask)
    const total = y.reduce((a, b) => a + b, 0)
    y.forEach((t, j) => (loss -= (t / total) * ls[j]))
  }
  return loss / s.rows
}

/** Central differences of f at x (x is perturbed in place and restored). */
export const numericGrad = (f: () => number, x: Float64Array, h = 1e-6): Float64Array => {
  const g = new Float64Array(x.length)
  for (let i = 0; i < x.length; i++) {
    const v = x[i]
    x[i] = v + h
    const fp = f()
    x[i] = v - h
    const fm = f()
    x[i] = v
    g[i] = (fp - fm) / (2 * h)
  }
  return g
}

/** ‖a − b‖ / max(‖a‖, ‖b‖): the norm-wise relative error. */
export const relativeError = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length)
  let d = 0, na = 0, nb = 0
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2
    na += a[i] ** 2
    nb += b[i] ** 2
  }
  const scale = Math.max(Math.sqrt(na), Math.sqrt(nb))
  return scale === 0 ? 0 : Math.sqrt(d) / scale
}

/** Asserts a gradient matches (relative error < 1e-4) and is not trivially zero. */
export const expectGradClose = (analytic: ArrayLike<number>, numeric: ArrayLike<number>, what: string): void => {
  let norm = 0
  for (let i = 0; i < numeric.length; i++) norm += numeric[i] ** 2
  expect(norm, `${what}: numeric gradient is zero, the check would be vacuous`).toBeGreaterThan(1e-12)
  const err = relativeError(analytic, numeric)
  expect(err, `${what}: relative error ${err.toExponential(2)}`).toBeLessThan(1e-4)
}

/** Deterministic float32 test data in [-1, 1) (mulberry32; independent of src/Rng). */
export const testData = (n: number, seed: number, scale = 1): Float32Array => {
  let s = seed
  return Float32Array.from({ length: n }, () => {
    s = (s + 0x6d2b79f5) | 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return scale * ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1)
  })
}

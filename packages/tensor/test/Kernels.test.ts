import { describe, expect, it } from "vitest"
import {
  cosineMatrix, cosineMatrixBackward, l2Normalize, l2NormalizeBackward, logSoftmaxBackward, logSoftmaxRows, matrix,
  softmaxBackward, softmaxRows
} from "../src/index.js"
import { at, cosine64, expectGradClose, m64, normalize64, numericGrad, testData } from "./reference.js"

const softmax64 = (x: Float64Array, rows: number, cols: number, tau: number): Float64Array => {
  const out = new Float64Array(x.length)
  for (let i = 0; i < rows; i++) {
    const r = Array.from(x.subarray(i * cols, (i + 1) * cols), (v) => v / tau)
    const m = Math.max(...r)
    const z = r.reduce((s, v) => s + Math.exp(v - m), 0)
    r.forEach((v, j) => (out[i * cols + j] = Math.exp(v - m) / z))
  }
  return out
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] * b[i]
  return s
}

describe("softmax / log-softmax", () => {
  it("is stable for huge logits and matches float64 with temperature", () => {
    const x = matrix(2, 3, Float32Array.from([1000, 1001, 1002, -5, 0, 5]))
    const p = softmaxRows(x, 0.5)
    const ref = softmax64(Float64Array.from(x.data), 2, 3, 0.5)
    p.data.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 6))
    const l = logSoftmaxRows(x, 0.5)
    l.data.forEach((v, i) => expect(v).toBeCloseTo(Math.log(ref[i]), 5))
  })

  it("masked entries get probability 0 and the rest renormalise; all-masked rows are an error", () => {
    const x = matrix(1, 4, Float32Array.from([1, 2, 3, 4]))
    const p = softmaxRows(x, 1, Uint8Array.from([0, 1, 0, 1]))
    expect(p.data[1]).toBe(0)
    expect(p.data[3]).toBe(0)
    expect(p.data[0]).toBeCloseTo(Math.exp(1) / (Math.exp(1) + Math.exp(3)), 6)
    expect(() => softmaxRows(x, 1, Uint8Array.from([1, 1, 1, 1]))).toThrow(/row 0 has every entry masked/)
    expect(() => softmaxRows(x, 0)).toThrow(/temperature must be a positive/)
  })

  it("softmaxBackward and logSoftmaxBackward match finite differences", () => {
    const [r, c, tau] = [3, 5, 0.7]
    const x = matrix(r, c, testData(r * c, 1, 2))
    const g = testData(r * c, 2)
    const x64 = Float64Array.from(x.data)
    const num = numericGrad(() => dot(g, softmax64(x64, r, c, tau)), x64)
    expectGradClose(softmaxBackward(softmaxRows(x, tau), matrix(r, c, g), tau).data, num, "softmax")
    const numLog = numericGrad(() => dot(g, softmax64(x64, r, c, tau).map(Math.log)), x64)
    expectGradClose(logSoftmaxBackward(logSoftmaxRows(x, tau), matrix(r, c, g), tau).data, numLog, "log-softmax")
  })
})

describe("L2 normalisation", () => {
  it("forward gives unit rows; backward matches finite differences", () => {
    const [r, c] = [4, 6]
    const x = matrix(r, c, testData(r * c, 3, 3))
    const n = l2Normalize(x)
    for (let i = 0; i < r; i++) expect(Math.hypot(...n.y.data.subarray(i * c, (i + 1) * c))).toBeCloseTo(1, 6)
    const g = testData(r * c, 4)
    const x64 = m64(r, c, x.data)
    const num = numericGrad(() => dot(g, normalize64(x64).data), x64.data)
    expectGradClose(l2NormalizeBackward(n, matrix(r, c, g)).data, num, "l2Normalize")
  })

  it("a zero row stays finite (eps clamp)", () => {
    const n = l2Normalize(matrix(1, 3))
    expect(Array.from(n.y.data)).toEqual([0, 0, 0])
    expect(Array.from(l2NormalizeBackward(n, matrix(1, 3, Float32Array.from([1e-13, 0, 0]))).data).every(Number.isFinite)).toBe(true)
  })
})

describe("cosine-similarity matrix", () => {
  it("forward matches float64 and backward wrt both sides matches finite differences", () => {
    const [na, nb, d] = [3, 5, 7]
    const a = matrix(na, d, testData(na * d, 5, 2)), b = matrix(nb, d, testData(nb * d, 6, 2))
    const a64 = m64(na, d, a.data), b64 = m64(nb, d, b.data)
    const c = cosineMatrix(a, b)
    const ref = cosine64(a64, b64)
    for (let i = 0; i < na; i++) for (let j = 0; j < nb; j++) expect(c.scores.data[i * nb + j]).toBeCloseTo(at(ref, i, j), 6)
    const g = testData(na * nb, 7)
    const { dA, dB } = cosineMatrixBackward(c, matrix(na, nb, g))
    const f = () => dot(g, cosine64(a64, b64).data)
    expectGradClose(dA.data, numericGrad(f, a64.data), "cosine dA")
    expectGradClose(dB.data, numericGrad(f, b64.data), "cosine dB")
  })
})

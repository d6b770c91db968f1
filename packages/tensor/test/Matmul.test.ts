import { describe, expect, it } from "vitest"
import { matmul, matmulABt, matmulAtB, matrix, transpose } from "../src/index.js"
import { m64, mul, testData, to64, tr } from "./reference.js"

/** Max |c − ref| relative to the largest Σ|a||b| term, the natural float32 error scale. */
const check = (c: ArrayLike<number>, ref: ArrayLike<number>, scale: number) => {
  let err = 0
  for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(c[i] - ref[i]))
  expect(err / scale).toBeLessThan(2e-6)
}

// Shapes around the 4x4 tiles, the 2x4 dot tile and the 256/64 cache blocks.
const shapes: Array<[number, number, number]> = [[1, 1, 1], [3, 5, 7], [4, 4, 4], [7, 9, 13], [17, 300, 5], [6, 33, 300], [65, 257, 70], [2, 384, 384]]

describe("matmul kernels vs naive float64", () => {
  for (const [m, k, n] of shapes) {
    it(`${m}x${k}x${n}: A·B, A·Bᵀ, Aᵀ·B`, () => {
      const a = matrix(m, k, testData(m * k, m * 1000 + k))
      const b = matrix(k, n, testData(k * n, n * 7 + 3))
      const ref = mul(to64(a), to64(b))
      check(matmul(a, b).data, ref.data, k)
      check(matmulABt(a, transpose(b)).data, ref.data, k)
      check(matmulAtB(transpose(a), b).data, ref.data, k)
    })
  }

  it("accumulate and alpha: C = C0 + alpha·op for all three variants", () => {
    const [m, k, n] = [9, 11, 6]
    const a = matrix(m, k, testData(m * k, 1)), b = matrix(k, n, testData(k * n, 2))
    const c0 = testData(m * n, 3)
    const ref = mul(to64(a), to64(b)).data.map((v, i) => c0[i] - 0.5 * v)
    for (const run of [
      (out: ReturnType<typeof matrix>) => matmul(a, b, { out, accumulate: true, alpha: -0.5 }),
      (out: ReturnType<typeof matrix>) => matmulABt(a, transpose(b), { out, accumulate: true, alpha: -0.5 }),
      (out: ReturnType<typeof matrix>) => matmulAtB(transpose(a), b, { out, accumulate: true, alpha: -0.5 })
    ]) {
      const out = matrix(m, n, c0.slice())
      expect(run(out)).toBe(out)
      check(out.data, ref, k)
    }
  })

  it("out without accumulate overwrites stale contents", () => {
    const a = matrix(5, 6, testData(30, 4)), b = matrix(6, 7, testData(42, 5))
    const out = matrix(5, 7, new Float32Array(35).fill(99))
    matmul(a, b, { out })
    check(out.data, mul(to64(a), to64(b)).data, 6)
  })

  it("rejects mismatched shapes with the shapes in the message", () => {
    expect(() => matmul(matrix(2, 3), matrix(4, 5))).toThrow(/A is 2 x 3 and B is 4 x 5/)
    expect(() => matmulABt(matrix(2, 3), matrix(4, 5))).toThrow(/A.cols must equal B.cols/)
    expect(() => matmulAtB(matrix(2, 3), matrix(4, 5))).toThrow(/A.rows must equal B.rows/)
    expect(() => matmul(matrix(2, 3), matrix(3, 5), { out: matrix(2, 4) })).toThrow(/expected shape 2 x 5, got 2 x 4/)
    const sq = matrix(3, 3)
    expect(() => matmul(sq, matrix(3, 3), { out: sq })).toThrow(/out must not share memory with A or B/)
  })

  it("transpose matches the reference", () => {
    const a = matrix(37, 45, testData(37 * 45, 9))
    expect(Array.from(transpose(a).data)).toEqual(Array.from(tr(to64(a)).data))
    expect(m64(1, 1).data.length).toBe(1)
  })
})

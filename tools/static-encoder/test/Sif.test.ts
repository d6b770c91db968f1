import { describe, expect, it } from "vitest"
import { sifWeights } from "../src/index.js"

describe("SIF weights", () => {
  it("are a/(a+p) with Zipf p(r) = (1/r)/H_N, in float64 reference", () => {
    const n = 1000
    let h = 0
    for (let r = 1; r <= n; r++) h += 1 / r
    const w = sifWeights(n, n, 1e-3)
    for (const r of [1, 2, 10, 500, 1000]) expect(w[r - 1]).toBeCloseTo(1e-3 / (1e-3 + 1 / r / h), 6)
    for (let i = 1; i < n; i++) expect(w[i]!).toBeGreaterThan(w[i - 1]!)
  })

  it("a restricted vocabulary keeps the full vocabulary's probabilities", () => {
    expect(sifWeights(100, 341_479)).toEqual(sifWeights(341_479, 341_479).subarray(0, 100))
  })

  it("rejects bad sizes and a", () => {
    expect(() => sifWeights(5, 4)).toThrow(/count must be an integer in \[0, 4\], got 5/)
    expect(() => sifWeights(1, 1, 0)).toThrow(/a must be positive/)
  })
})

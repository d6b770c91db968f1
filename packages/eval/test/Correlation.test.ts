import { describe, expect, it } from "vitest"
import { pearson, rank, spearman } from "../src/index.js"

// An independent float64 reference: ranks by counting (O(n²)), Pearson by the textbook formula.
const refRank = (v: ReadonlyArray<number>) => v.map((a) => v.filter((b) => b < a).length + (v.filter((b) => b === a).length + 1) / 2)
const refPearson = (x: ReadonlyArray<number>, y: ReadonlyArray<number>) => {
  const n = x.length
  const mx = x.reduce((s, a) => s + a, 0) / n
  const my = y.reduce((s, a) => s + a, 0) / n
  const cov = x.reduce((s, a, i) => s + (a - mx) * (y[i]! - my), 0)
  return cov / Math.sqrt(x.reduce((s, a) => s + (a - mx) ** 2, 0) * y.reduce((s, b) => s + (b - my) ** 2, 0))
}

describe("rank correlation", () => {
  it("average ranks for ties (scipy.stats.rankdata)", () => {
    expect(Array.from(rank([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]))).toEqual([4.5, 1.5, 6, 1.5, 8, 11, 3, 10, 8, 4.5, 8])
  })

  it("matches scipy on tied data", () => {
    const x = Array.from({ length: 50 }, (_, i) => (i * 37) % 11)
    const y = Array.from({ length: 50 }, (_, i) => ((i * i) % 13) * 0.5 + (i % 3))
    // scipy 1.17.1: spearmanr(x, y), pearsonr(x, y)
    expect(spearman(x, y)).toBeCloseTo(0.07981147031184779, 14)
    expect(pearson(x, y)).toBeCloseTo(0.08799772482939408, 14)
    expect(spearman(x, y)).toBeCloseTo(refPearson(refRank(x), refRank(y)), 14)
    // The no-ties shortcut 1 - 6Σd²/(n(n²-1)) gives a different value here, which is why it is not used.
    const d2 = refRank(x).reduce((s, r, i) => s + (r - refRank(y)[i]!) ** 2, 0)
    expect(Math.abs(1 - (6 * d2) / (50 * (50 * 50 - 1)) - spearman(x, y))).toBeGreaterThan(1e-4)
  })

  it("matches a float64 reference on float32 input and is invariant to monotone maps", () => {
    let s = 12345
    const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648)
    const x = Float32Array.from({ length: 500 }, next)
    const y = Float32Array.from(x, (v) => v + 0.3 * next())
    expect(pearson(x, y)).toBeCloseTo(refPearson(Array.from(x), Array.from(y)), 12)
    expect(spearman(x, y)).toBeCloseTo(spearman(x.map((v) => Math.exp(3 * v)), y), 14)
    expect(spearman(x, x)).toBe(1)
    expect(spearman(x, x.map((v) => -v))).toBe(-1)
  })

  it("NaN for a constant side, errors for mismatched or non-finite input", () => {
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN()
    expect(() => spearman([1, 2], [1])).toThrow(/x has 2 values, y has 1/)
    expect(() => pearson([1, Number.NaN], [1, 2])).toThrow(/pair 1 is not finite/)
  })
})

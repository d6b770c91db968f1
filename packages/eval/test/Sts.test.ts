import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { EvalError, evaluateSts, pairwiseCosine } from "../src/index.js"

const matrix = (rows: ReadonlyArray<ReadonlyArray<number>>) => ({ dim: rows[0]!.length, count: rows.length, data: Float32Array.from(rows.flat()) })

describe("STS evaluation", () => {
  it("pairwise cosine by hand", () => {
    const a = matrix([[1, 0], [1, 1], [3, 4], [0, 0]])
    const b = matrix([[0, 1], [2, 2], [4, 3], [1, 0]])
    expect(Array.from(pairwiseCosine(a, b))).toEqual([0, 1, 24 / 25, 0].map((v) => expect.closeTo(v, 7)))
  })

  it("spearman and pearson of cosines vs gold (scipy reference)", async () => {
    // Rows chosen so the cosines are exactly 0.1, 0.3, 0.8, 0.7, 0.95, 0.3 (unit b, a = [c, sqrt(1-c²)]).
    const c = [0.1, 0.3, 0.8, 0.7, 0.95, 0.3]
    const a = matrix(c.map((v) => [v, Math.sqrt(1 - v * v)]))
    const b = matrix(c.map(() => [1, 0]))
    const r = await Effect.runPromise(evaluateSts(a, b, [0.0, 1.2, 3.4, 3.4, 5.0, 2.2]))
    // scipy: spearmanr = 0.9705882352941178, pearsonr = 0.9612351464958576 (on the exact cosines).
    expect(r.spearman).toBeCloseTo(0.9705882352941178, 12)
    expect(r.pearson).toBeCloseTo(0.9612351464958576, 6)
    expect(r.count).toBe(6)
  })

  it("fails clearly on mismatched shapes or constant scores", async () => {
    const a = matrix([[1, 0], [0, 1]])
    const e = await Effect.runPromise(Effect.flip(evaluateSts(a, matrix([[1, 0, 0], [0, 1, 0]]), [1, 2])))
    expect(e).toBeInstanceOf(EvalError)
    expect(e.message).toMatch(/a is 2x2, b is 2x3/)
    const c = await Effect.runPromise(Effect.flip(evaluateSts(a, a, [1, 2])))
    expect(c.message).toMatch(/constant/)
  })
})

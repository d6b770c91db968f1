import { describe, expect, it } from "vitest"
import { gatherBags, matrix, type TokenBags, TokenDelta } from "../src/index.js"
import { expectGradClose, numericGrad, testData } from "./reference.js"

/** Three texts over tokens {3, 7, 9, 12}: 12 has no delta row, token 7 repeats within text 0. */
const bags: TokenBags = {
  offsets: Int32Array.from([0, 3, 5, 6]),
  tokens: Int32Array.from([7, 3, 7, 12, 9, 3]),
  coefficients: Float32Array.from([0.5, 0.25, 0.75, 1.5, 0.4, 2])
}
const tuned = [3, 7, 9]
const dim = 4

/** Float64 reference: x'_i = x_i + Σ_t c_t Δ[token_t], from the bags' plain definition. */
const reference = (x: Float64Array, delta: Float64Array): Float64Array => {
  const y = Float64Array.from(x)
  for (let i = 0; i < 3; i++) {
    for (let e = bags.offsets[i]!; e < bags.offsets[i + 1]!; e++) {
      const r = tuned.indexOf(bags.tokens[e]!)
      if (r < 0) continue
      for (let k = 0; k < dim; k++) y[i * dim + k]! += bags.coefficients[e]! * delta[r * dim + k]!
    }
  }
  return y
}

describe("TokenDelta", () => {
  it("forward matches the float64 definition and backward matches finite differences", () => {
    const delta = TokenDelta.make({ tokens: [9, 3, 7, 3], dim })
    expect(Array.from(delta.tokens)).toEqual(tuned)
    delta.delta.value.set(testData(tuned.length * dim, 5, 0.8))
    const x = matrix(3, dim, testData(3 * dim, 6))
    const g = testData(3 * dim, 7)
    const y = delta.forward(x, bags)
    const y64 = reference(Float64Array.from(x.data), Float64Array.from(delta.delta.value))
    y.data.forEach((v, i) => expect(v).toBeCloseTo(y64[i]!, 6))
    delta.zeroGrad()
    const dX = delta.backward(matrix(3, dim, g))
    expect(Array.from(dX.data)).toEqual(Array.from(g))
    const d64 = Float64Array.from(delta.delta.value)
    const loss = () => reference(Float64Array.from(x.data), d64).reduce((s, v, i) => s + v * g[i]!, 0)
    expectGradClose(delta.delta.grad, numericGrad(loss, d64), "dΔ")
    // Token 12 has no row: its entry changes nothing, and no row other than 3, 7, 9 exists.
    expect(delta.rowOf(12)).toBe(-1)
  })

  it("a fresh delta is the identity; JSON round trip is exact", () => {
    const delta = TokenDelta.make({ tokens: tuned, dim })
    const x = matrix(3, dim, testData(3 * dim, 8))
    expect(Array.from(delta.predict(x, bags).data)).toEqual(Array.from(x.data))
    expect(delta.changedTokens()).toBe(0)
    delta.delta.value.set(testData(tuned.length * dim, 9))
    const back = TokenDelta.fromJSON(JSON.parse(JSON.stringify(delta.toJSON())))
    expect(Array.from(back.tokens)).toEqual(tuned)
    expect(Array.from(back.delta.value)).toEqual(Array.from(delta.delta.value))
    expect(back.changedTokens()).toBe(3)
    expect(() => TokenDelta.fromJSON({ ...delta.toJSON(), tokens: [7, 3, 9] })).toThrow(/ascending/)
  })

  it("gatherBags picks texts in order, repeats included, and rejects rows out of range", () => {
    const picked = gatherBags(bags, [2, 0, 2])
    expect(Array.from(picked.offsets)).toEqual([0, 1, 4, 5])
    expect(Array.from(picked.tokens)).toEqual([3, 7, 3, 7, 3])
    expect(Array.from(picked.coefficients)).toEqual([2, 0.5, 0.25, 0.75, 2])
    expect(() => gatherBags(bags, [3])).toThrow(/out of range/)
    const delta = TokenDelta.make({ tokens: tuned, dim })
    expect(() => delta.predict(matrix(2, dim), bags)).toThrow(/3 bags for 2 rows/)
  })
})

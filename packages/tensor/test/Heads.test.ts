import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { type Head, headFromJSON, HeadJsonSchema, Linear, LowRankResidualAdapter, matrix, Mlp, Rng } from "../src/index.js"
import { expectGradClose, linear64, lowRank64, type M64, m64, mlp64, numericGrad, testData } from "./reference.js"

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] * b[i]
  return s
}

/**
 * Checks backward() of `head` against central differences of the float64 reference forward `ref`
 * (which reads the float64 copies of the parameters, keyed by name) for L = Σ G∘head(x).
 */
const gradCheck = (head: Head, ref: (x: M64, p: Record<string, M64>) => M64, rows: number, seed: number) => {
  const x = matrix(rows, head.inputDim, testData(rows * head.inputDim, seed, 1.5))
  const g = matrix(rows, head.outputDim, testData(rows * head.outputDim, seed + 1))
  head.zeroGrad()
  head.forward(x)
  // Accumulation: two backward calls give twice the gradient.
  head.backward(g)
  const dX = head.backward(g)
  const x64 = m64(rows, head.inputDim, x.data)
  const p64 = Object.fromEntries(head.params().map((p) => [p.name, m64(p.shape[0], p.shape[1] ?? 1, p.value)]))
  const loss = () => dot(g.data, ref(x64, p64).data)
  expectGradClose(dX.data, numericGrad(loss, x64.data), `${head.kind} dX`)
  for (const p of head.params()) {
    expectGradClose(p.grad.map((v) => v / 2), numericGrad(loss, p64[p.name].data), `${head.kind} d${p.name}`)
  }
}

/** Fills every parameter with non-trivial values (zero-initialised "up" would hide its path). */
const randomise = (head: Head, seed: number) => {
  const r = new Rng(seed)
  for (const p of head.params()) r.fillNormal(p.value, 0, 0.5)
  return head
}

describe("head backward vs float64 finite differences", () => {
  it("Linear (with and without bias)", () => {
    gradCheck(randomise(Linear.make({ inputDim: 5, outputDim: 4 }), 1), (x, p) => linear64(x, p.weight, p.bias.data), 3, 10)
    gradCheck(randomise(Linear.make({ inputDim: 6, outputDim: 3, bias: false }), 2), (x, p) => linear64(x, p.weight), 4, 20)
  })

  it("LowRankResidualAdapter", () => {
    const head = randomise(LowRankResidualAdapter.make({ dim: 7, rank: 3, scale: 0.75 }), 3)
    gradCheck(head, (x, p) => lowRank64(x, p.down, p.up, 0.75), 5, 30)
  })

  it("Mlp with GELU and with ReLU", () => {
    for (const activation of ["gelu", "relu"] as const) {
      const head = randomise(Mlp.make({ inputDim: 5, hiddenDim: 8, outputDim: 4, activation }), 4)
      gradCheck(head, (x, p) => mlp64(x, p.w1, p.b1.data, p.w2, p.b2.data, activation), 6, 40)
    }
  })
})

describe("heads", () => {
  it("a fresh LowRankResidualAdapter is the identity; identity-initialised Linear too", () => {
    const x = matrix(3, 8, testData(24, 5))
    expect(Array.from(LowRankResidualAdapter.make({ dim: 8, rank: 2, seed: 1 }).forward(x).data)).toEqual(Array.from(x.data))
    expect(Array.from(Linear.make({ inputDim: 8, outputDim: 8, init: "identity" }).forward(x).data)).toEqual(Array.from(x.data))
  })

  it("initialisation is seeded: same seed same weights, different seed different weights", () => {
    const w = (seed: number) => Array.from(Mlp.make({ inputDim: 4, hiddenDim: 6, outputDim: 3, seed }).w1.value)
    expect(w(1)).toEqual(w(1))
    expect(w(1)).not.toEqual(w(2))
  })

  it("predict equals forward and keeps nothing", () => {
    const head = randomise(Mlp.make({ inputDim: 4, hiddenDim: 5, outputDim: 3 }), 6)
    const x = matrix(2, 4, testData(8, 6))
    expect(Array.from(head.predict(x).data)).toEqual(Array.from(head.forward(x).data))
    expect(() => Mlp.make({ inputDim: 4, hiddenDim: 5, outputDim: 3 }).backward(matrix(2, 3))).toThrow(/call forward\(\) first/)
  })

  it("toJSON/fromJSON round-trips weights exactly through JSON text, for every kind", () => {
    const heads: Array<Head> = [
      randomise(Linear.make({ inputDim: 5, outputDim: 3 }), 7),
      randomise(Linear.make({ inputDim: 5, outputDim: 3, bias: false }), 8),
      randomise(LowRankResidualAdapter.make({ dim: 6, rank: 2, scale: 0.5 }), 9),
      randomise(Mlp.make({ inputDim: 4, hiddenDim: 7, outputDim: 3, activation: "relu" }), 10)
    ]
    for (const head of heads) {
      const back = headFromJSON(JSON.parse(JSON.stringify(head.toJSON())))
      expect(back.kind).toBe(head.kind)
      expect(back.params().map((p) => [p.name, p.shape, Array.from(p.value)])).toEqual(
        head.params().map((p) => [p.name, p.shape, Array.from(p.value)])
      )
      const x = matrix(3, head.inputDim, testData(3 * head.inputDim, 11))
      expect(Array.from(back.predict(x).data)).toEqual(Array.from(head.predict(x).data))
    }
  })

  it("HeadJsonSchema accepts toJSON output and rejects a wrong kind", () => {
    const json = JSON.parse(JSON.stringify(Mlp.make({ inputDim: 3, hiddenDim: 4, outputDim: 2 }).toJSON()))
    expect(Schema.decodeUnknownExit(HeadJsonSchema)(json)._tag).toBe("Success")
    expect(Schema.decodeUnknownExit(HeadJsonSchema)({ ...json, kind: "conv" })._tag).toBe("Failure")
  })

  it("fromJSON names what is wrong", () => {
    const json = Linear.make({ inputDim: 3, outputDim: 2 }).toJSON()
    expect(() => headFromJSON({ ...json, format: "v0" })).toThrow(/format is "v0"/)
    expect(() => headFromJSON({ ...json, kind: "conv" })).toThrow(/unknown kind "conv"/)
    expect(() => headFromJSON({ ...json, weights: { weight: json.weights.weight } })).toThrow(/missing weight "bias"/)
    expect(() => headFromJSON({ ...json, weights: { ...json.weights, bias: { ...json.weights.bias, shape: [3] } } }))
      .toThrow(/weight "bias" has shape \[3\], expected \[2\]/)
    expect(() => Linear.make({ inputDim: 3, outputDim: 2 }).forward(matrix(1, 4))).toThrow(/input has 4 columns, expected 3/)
  })
})

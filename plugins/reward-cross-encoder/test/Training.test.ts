import { describe, expect, it } from "vitest"
import { adamW, type Head, listwiseCrossEntropy, makeRandom, mlpScorer, normal, residualAdapter } from "../src/internal/training.js"

/** loss = sum_r,k c[r,k] * y[r,k] for fixed random c: its gradient w.r.t. y is c. */
const checkHead = (head: Head, rows: number, seed: number) => {
  const random = makeRandom(seed)
  const x = Float64Array.from({ length: rows * head.inDim }, () => normal(random))
  const c = Float64Array.from({ length: rows * head.outDim }, () => normal(random))
  const loss = () => head.forward(x, rows).reduce((s, y, i) => s + y * c[i]!, 0)
  // Move the zero-initialised parameters off zero, so every path carries gradient.
  for (const p of head.parameters) for (let i = 0; i < p.value.length; i++) p.value[i] = p.value[i]! + 0.3 * normal(random)
  head.forward(x, rows)
  head.backward(c)
  const h = 1e-6
  for (const p of head.parameters) {
    for (let i = 0; i < p.value.length; i++) {
      const keep = p.value[i]!
      p.value[i] = keep + h
      const up = loss()
      p.value[i] = keep - h
      const down = loss()
      p.value[i] = keep
      const numeric = (up - down) / (2 * h)
      expect(Math.abs(numeric - p.grad[i]!), `${p.name}[${i}]`).toBeLessThan(1e-7 + 1e-6 * Math.abs(numeric))
    }
  }
}

describe("heads (float64 finite differences)", () => {
  it("mlpScorer backward matches central differences", () => checkHead(mlpScorer(6, 4, 1, { float64: true }), 3, 2))
  it("residualAdapter backward matches central differences", () => checkHead(residualAdapter(5, 3, 1, { float64: true }), 4, 3))

  it("residualAdapter starts as the identity", () => {
    const head = residualAdapter(4, 2, 9)
    const x = Float32Array.from([1, -2, 3, 0.5, 0, 1, 2, 3])
    expect(Array.from(head.forward(x, 2))).toEqual(Array.from(x))
  })
})

describe("listwiseCrossEntropy", () => {
  it("is -log softmax(target) with gradient softmax - onehot", () => {
    const logits = [1.5, -0.5, 0.25]
    const z = logits.map(Math.exp).reduce((a, b) => a + b, 0)
    const { loss, gradLogits } = listwiseCrossEntropy(logits, 1)
    expect(loss).toBeCloseTo(-Math.log(Math.exp(-0.5) / z), 12)
    expect(gradLogits[0]).toBeCloseTo(Math.exp(1.5) / z, 12)
    expect(gradLogits[1]).toBeCloseTo(Math.exp(-0.5) / z - 1, 12)
  })
})

describe("adamW", () => {
  it("minimises a quadratic and zeroes gradients after each step", () => {
    const p = { name: "w", value: new Float64Array([3, -2]), grad: new Float64Array(2) }
    const opt = adamW([p], { lr: 0.1, weightDecay: 0 })
    for (let i = 0; i < 300; i++) {
      p.grad[0] = 2 * (p.value[0]! - 1)
      p.grad[1] = 2 * (p.value[1]! + 1)
      opt.step()
    }
    expect(p.value[0]).toBeCloseTo(1, 2)
    expect(p.value[1]).toBeCloseTo(-1, 2)
    expect(Array.from(p.grad)).toEqual([0, 0])
  })

  it("first step moves each weight by lr against its gradient's sign (bias-corrected), plus decay", () => {
    const p = { name: "w", value: new Float64Array([1, 1]), grad: new Float64Array([5, -0.01]) }
    adamW([p], { lr: 0.01, weightDecay: 0.1 }).step()
    expect(p.value[0]).toBeCloseTo(1 * (1 - 0.001) - 0.01, 6)
    expect(p.value[1]).toBeCloseTo(1 * (1 - 0.001) + 0.01, 6)
  })
})

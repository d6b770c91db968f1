import { GraphBuilder } from "@embedflow/onnx"
import * as ort from "onnxruntime-node"
import { describe, expect, it } from "vitest"
import { type Head, headToOnnx, l2Normalize, Linear, LowRankResidualAdapter, matrix, Mlp, Rng } from "../src/index.js"
import { testData } from "./reference.js"

const runOnnx = async (bytes: Uint8Array, feeds: Record<string, ort.Tensor>) => {
  const session = await ort.InferenceSession.create(bytes)
  try {
    return await session.run(feeds)
  } finally {
    await session.release()
  }
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

const trainedLike = (head: Head, seed: number): Head => {
  const r = new Rng(seed)
  for (const p of head.params()) r.fillNormal(p.value, 0, 0.3)
  return head
}

const heads: Array<[string, () => Head]> = [
  ["Linear", () => trainedLike(Linear.make({ inputDim: 16, outputDim: 12 }), 1)],
  ["Linear without bias", () => trainedLike(Linear.make({ inputDim: 16, outputDim: 12, bias: false }), 2)],
  ["LowRankResidualAdapter", () => trainedLike(LowRankResidualAdapter.make({ dim: 16, rank: 4, scale: 0.5 }), 3)],
  ["Mlp (gelu)", () => trainedLike(Mlp.make({ inputDim: 16, hiddenDim: 24, outputDim: 8, activation: "gelu" }), 4)],
  ["Mlp (relu)", () => trainedLike(Mlp.make({ inputDim: 16, hiddenDim: 24, outputDim: 8, activation: "relu" }), 5)]
]

describe("headToOnnx through onnxruntime-node", () => {
  for (const [name, make] of heads) {
    it(`${name}: ONNX output equals forward() within 1e-5 (raw and L2-normalised)`, async () => {
      const head = make()
      const batch = 5
      const x = matrix(batch, head.inputDim, testData(batch * head.inputDim, 9, 2))
      const g = new GraphBuilder("head")
      const input = g.input("embedding", "float32", ["batch", head.inputDim])
      const y = headToOnnx(g, head, input)
      g.output(y, { name: "y" })
      g.output(headToOnnx(g, head, input, { normalize: true, prefix: "norm." }), { name: "y_normalized" })
      const out = await runOnnx(g.toModel({ opset: 17 }), { embedding: new ort.Tensor("float32", x.data, [batch, head.inputDim]) })
      const expected = head.predict(x)
      expect(out.y.dims).toEqual([batch, head.outputDim])
      expect(maxAbsDiff(out.y.data as Float32Array, expected.data)).toBeLessThan(1e-5)
      expect(maxAbsDiff(out.y_normalized.data as Float32Array, l2Normalize(expected).y.data)).toBeLessThan(1e-5)
    })
  }

  it("a string input declares a [batch, inputDim] graph input; weights are copied at export time", async () => {
    const head = heads[0][1]() as Linear
    const g = new GraphBuilder("by-name")
    g.output(headToOnnx(g, head, "pooled"), { name: "y" })
    const bytes = g.toModel({ opset: 13 })
    const x = matrix(2, 16, testData(32, 3))
    const expected = head.predict(x)
    head.weight.value.fill(0) // later training must not leak into an exported graph
    const out = await runOnnx(bytes, { pooled: new ort.Tensor("float32", x.data, [2, 16]) })
    expect(maxAbsDiff(out.y.data as Float32Array, expected.data)).toBeLessThan(1e-5)
  })
})

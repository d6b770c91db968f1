import * as ort from "onnxruntime-node"
import { describe, expect, it } from "vitest"
import { Attr, GraphBuilder } from "../src/index.js"
import { field, readFields, str, sub } from "./wire.js"

/** Deterministic test data (mulberry32). */
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const randn = (n: number, seed: number): Float32Array => {
  const r = rng(seed)
  return Float32Array.from({ length: n }, () => r() * 2 - 1)
}
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}
const run = async (bytes: Uint8Array, feeds: Record<string, ort.Tensor>) => {
  const session = await ort.InferenceSession.create(bytes)
  try {
    return await session.run(feeds)
  } finally {
    await session.release()
  }
}

describe("GraphBuilder + onnxruntime-node", () => {
  it("MatMul + Add + Softmax (float32 initializers, symbolic batch, float/int attributes)", async () => {
    const [B, D, K] = [3, 7, 5]
    const g = new GraphBuilder("linear")
    const x = g.input("x", "float32", ["batch", D])
    const w = g.initializer("w", randn(D * K, 1), [D, K])
    const b = g.initializer("b", randn(K, 2), [K])
    const z = g.op("Add", [g.op("MatMul", [x, w]), b])
    const scaled = g.op("Mul", [z, g.constant(new Float32Array([0.5]), { dims: [] })])
    g.output(g.op("Softmax", [scaled], { axis: -1 }), { name: "probs", shape: ["batch", K] })
    g.output(g.op("LeakyRelu", [z], { alpha: 0.25 }), { name: "leaky" })
    const xs = randn(B * D, 3)
    const out = await run(g.toModel({ opset: 17 }), { x: new ort.Tensor("float32", xs, [B, D]) })

    const W = randn(D * K, 1), bias = randn(K, 2)
    const probs: number[] = [], leaky: number[] = []
    for (let i = 0; i < B; i++) {
      const zi = Array.from({ length: K }, (_, k) => {
        let s = bias[k]
        for (let d = 0; d < D; d++) s += xs[i * D + d] * W[d * K + k]
        return s
      })
      const m = Math.max(...zi.map((v) => v * 0.5))
      const e = zi.map((v) => Math.exp(v * 0.5 - m))
      const sum = e.reduce((a, c) => a + c, 0)
      probs.push(...e.map((v) => v / sum))
      leaky.push(...zi.map((v) => (v >= 0 ? v : 0.25 * v)))
    }
    expect(out.probs.dims).toEqual([B, K])
    expect(maxAbsDiff(out.probs.data as Float32Array, probs)).toBeLessThan(1e-6)
    expect(maxAbsDiff(out.leaky.data as Float32Array, leaky)).toBeLessThan(1e-5)
  })

  it("int64 / int32 / bool tensors: Gather, Cast, Where, Equal", async () => {
    const g = new GraphBuilder()
    const ids = g.input("ids", "int64", ["n"])
    const table = g.initializer("table", Float32Array.from([10, 11, 12, 13, 14]), [5])
    const gathered = g.op("Gather", [table, ids], { axis: 0 })
    const mask = g.initializer("mask", Uint8Array.from([1, 0, 1]), [3], "bool")
    const picked = g.op("Where", [mask, gathered, g.constant([-1], { dataType: "float32", dims: [] })])
    const i32 = g.op("Add", [g.op("Cast", [ids], { to: 6 }), g.constant(Int32Array.from([100]), { dims: [1] })])
    const eq = g.op("Equal", [ids, g.constant(BigInt64Array.from([2n, 2n, 2n]))])
    const int64Sum = g.op("ReduceSum", [ids], { keepdims: 0 })
    g.output(picked, { name: "picked" })
    g.output(i32, { name: "i32" })
    g.output(eq, { name: "eq" })
    g.output(int64Sum, { name: "sum" })
    g.output(mask, { name: "mask_out" }) // an initializer as output goes through Identity
    const out = await run(g.toModel(), { ids: new ort.Tensor("int64", BigInt64Array.from([4n, 2n, 0n]), [3]) })
    expect(Array.from(out.picked.data as Float32Array)).toEqual([14, -1, 10])
    expect(out.i32.type).toBe("int32")
    expect(Array.from(out.i32.data as Int32Array)).toEqual([104, 102, 100])
    expect(out.eq.type).toBe("bool")
    expect(Array.from(out.eq.data as Uint8Array).map(Boolean)).toEqual([false, true, false])
    expect(out.sum.data[0]).toBe(6n)
    expect(Array.from(out.mask_out.data as Uint8Array).map(Boolean)).toEqual([true, false, true])
  })

  it("ints / floats / string / tensor attributes: Transpose, Constant, Pad", async () => {
    const g = new GraphBuilder()
    const x = g.input("x", "float32", [2, 3])
    const t = g.op("Transpose", [x], { perm: [1, 0] })
    const c = g.op("Constant", [], { value_floats: Float32Array.from([0.5, 1.5, -2.25]) })
    const tensorConst = g.op("Constant", [], {
      value: { dataType: "float32", dims: [3, 1], data: Float32Array.from([1, 2, 3]) }
    })
    const sum = g.op("Add", [g.op("Add", [t, tensorConst]), g.op("Unsqueeze", [c, g.constant([1], { dataType: "int64" })])])
    const padded = g.op("Pad", [x, g.constant([0, 2, 0, 1], { dataType: "int64" })], { mode: "reflect" })
    const floatInts = g.op("Mul", [x, g.op("Constant", [], { value_float: Attr.float(3) })])
    g.output(sum, { name: "sum", shape: [3, 2] })
    g.output(padded, { name: "padded" })
    g.output(floatInts, { name: "tripled" })
    const xs = Float32Array.from([1, 2, 3, 4, 5, 6])
    const out = await run(g.toModel(), { x: new ort.Tensor("float32", xs, [2, 3]) })
    // transpose [[1,4],[2,5],[3,6]] + [[1],[2],[3]] + [[.5],[1.5],[-2.25]]
    expect(Array.from(out.sum.data as Float32Array)).toEqual([2.5, 5.5, 5.5, 8.5, 3.75, 6.75])
    expect(out.padded.dims).toEqual([2, 6])
    expect(Array.from(out.padded.data as Float32Array)).toEqual([3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5])
    expect(Array.from(out.tripled.data as Float32Array)).toEqual([3, 6, 9, 12, 15, 18])
  })

  it("multi-output ops: exact MatMul + TopK search, indices as int64", async () => {
    const [N, D, Q, k] = [50, 8, 4, 3]
    const g = new GraphBuilder("search")
    const q = g.input("q", "float32", ["nq", D])
    const base = g.initializer("base_t", randn(D * N, 7), [D, N])
    const [scores, indices] = g.opMulti("TopK", [g.op("MatMul", [q, base]), g.constant([k], { dataType: "int64" })], 2, { axis: -1, largest: 1, sorted: 1 })
    g.output(scores, { name: "scores" })
    g.output(indices, { name: "indices" })
    const qs = randn(Q * D, 8), B = randn(D * N, 7)
    const out = await run(g.toModel(), { q: new ort.Tensor("float32", qs, [Q, D]) })
    for (let i = 0; i < Q; i++) {
      const s = Array.from({ length: N }, (_, n) => {
        let acc = 0
        for (let d = 0; d < D; d++) acc += qs[i * D + d] * B[d * N + n]
        return { n, acc }
      }).sort((a, b) => b.acc - a.acc)
      for (let j = 0; j < k; j++) {
        expect(Number((out.indices.data as BigInt64Array)[i * k + j])).toBe(s[j].n)
        expect((out.scores.data as Float32Array)[i * k + j]).toBeCloseTo(s[j].acc, 5)
      }
    }
  })

  it("subgraph attribute (If with constant branches) and omitted optional inputs", async () => {
    const branch = (v: number) => {
      const b = new GraphBuilder(`branch_${v}`)
      b.output(b.op("Constant", [], { value_float: Attr.float(v) }), { name: `r${v}`, dataType: "float32" })
      return Attr.graph(b.toGraphProto())
    }
    const g = new GraphBuilder()
    const cond = g.input("cond", "bool", [])
    const x = g.input("x", "float32", [4])
    g.output(g.op("If", [cond], { then_branch: branch(1), else_branch: branch(-1) }, { outputTypes: ["float32"] }), { name: "y" })
    // Clip with omitted min (null) and a max: inputs become ["x", "", "max"].
    g.output(g.op("Clip", [x, null, g.constant(new Float32Array([0.5]), { dims: [] })]), { name: "clipped" })
    const bytes = g.toModel()
    const xs = new ort.Tensor("float32", Float32Array.from([-3, 0.25, 1, 9]), [4])
    const yes = await run(bytes, { cond: new ort.Tensor("bool", Uint8Array.from([1]), []), x: xs })
    const no = await run(bytes, { cond: new ort.Tensor("bool", Uint8Array.from([0]), []), x: xs })
    expect(yes.y.data[0]).toBe(1)
    expect(no.y.data[0]).toBe(-1)
    expect(Array.from(yes.clipped.data as Float32Array)).toEqual([-3, 0.25, 0.5, 0.5])
  })

  it("serializes a 341k x 100 float32 initializer with one copy, and ORT runs it", async () => {
    const [N, D] = [341_000, 100]
    const emb = new Float32Array(N * D)
    for (let i = 0; i < emb.length; i++) emb[i] = ((i * 2654435761) % 1000) / 1000 - 0.5
    const g = new GraphBuilder()
    const ids = g.input("ids", "int64", ["n"])
    g.output(g.op("Gather", [g.initializer("emb", emb, [N, D]), ids], { axis: 0 }), { name: "vecs" })
    const t0 = performance.now()
    const bytes = g.toModel()
    const ms = performance.now() - t0
    expect(bytes.length).toBeGreaterThan(N * D * 4)
    expect(bytes.length).toBeLessThan(N * D * 4 + 200)
    expect(ms).toBeLessThan(5000) // one 136 MB copy; a quadratic writer would take minutes
    const out = await run(bytes, { ids: new ort.Tensor("int64", BigInt64Array.from([0n, 340_999n]), [2]) })
    expect(Array.from((out.vecs.data as Float32Array).subarray(D, 2 * D))).toEqual(Array.from(emb.subarray(340_999 * D)))
  })
})

describe("wire format", () => {
  it("writes ModelProto fields: ir_version, opsets, producer, metadata, graph names", () => {
    const g = new GraphBuilder("named")
    const x = g.input("x", "float32", [null, 2])
    g.output(g.op("Relu", [x], {}, { name: "relu", domain: "" }), { name: "y" })
    g.op("Gelu", [x], {}, { domain: "com.microsoft" }) // dangling nodes are legal protobuf; checks domain import
    const bytes = g.toModel({ opset: 17, metadata: { config: "{\"k\":1}" }, producerVersion: "0.1.0" })
    const m = readFields(bytes)
    expect(field(m, 1)).toEqual([8n])
    expect(str(field(m, 2)[0])).toBe("@embedflow/onnx")
    expect(str(field(m, 3)[0])).toBe("0.1.0")
    const opsets = field(m, 8).map(sub).map((o) => ({ domain: field(o, 1).map(str)[0] ?? "", version: field(o, 2)[0] }))
    expect(opsets).toEqual([{ domain: "", version: 17n }, { domain: "com.microsoft", version: 1n }])
    const meta = sub(field(m, 14)[0])
    expect([str(field(meta, 1)[0]), str(field(meta, 2)[0])]).toEqual(["config", "{\"k\":1}"])
    const graph = sub(field(m, 7)[0])
    expect(str(field(graph, 2)[0])).toBe("named")
    const node = sub(field(graph, 1)[0])
    expect([str(field(node, 1)[0]), str(field(node, 2)[0]), str(field(node, 3)[0]), str(field(node, 4)[0])]).toEqual(["x", "y", "relu", "Relu"])
    // input x: unknown first dim (empty Dimension), second dim 2
    const xType = sub(field(sub(field(sub(field(graph, 11)[0]), 2)[0]), 1)[0])
    const dims = field(sub(field(xType, 2)[0]), 1).map(sub)
    expect(dims[0]).toEqual([])
    expect(field(dims[1], 1)).toEqual([2n])
  })

  it("encodes negative int attributes as 10-byte varints and strings attributes", () => {
    const g = new GraphBuilder()
    const x = g.input("x", "float32", [1])
    g.output(g.op("Custom", [x], { axis: -1, names: ["a", "bc"] }, { domain: "test", outputTypes: ["float32"] }))
    const graph = sub(field(readFields(g.toModel()), 7)[0])
    const attrs = field(sub(field(graph, 1)[0]), 5).map(sub)
    expect(field(attrs[0], 3)).toEqual([(1n << 64n) - 1n])
    expect(field(attrs[0], 20)).toEqual([2n])
    expect(field(attrs[1], 9).map(str)).toEqual(["a", "bc"])
    expect(field(attrs[1], 20)).toEqual([8n])
  })
})

describe("errors", () => {
  it("names what was wrong", () => {
    const g = new GraphBuilder("e")
    const x = g.input("x", "float32", [2])
    expect(() => g.input("x", "int64")).toThrow(/"x" is already used/)
    expect(() => g.initializer("w", new Float32Array(5), [2, 3])).toThrow(/dims \[2, 3\] hold 6 elements but data has 5/)
    expect(() => g.initializer("w2", new Float32Array(2), [2], "int64")).toThrow(/int64 needs a BigInt64Array, got Float32Array/)
    const custom = g.op("MyOp", [x], {}, { domain: "custom" })
    expect(() => g.output(custom)).toThrow(/element type unknown/)
    expect(() => g.op("Relu", [new GraphBuilder("other").input("z", "float32")])).toThrow(/not a value of graph "e"/)
    expect(() => new GraphBuilder("empty").toModel()).toThrow(/no outputs/)
  })
})

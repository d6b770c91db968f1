import * as ort from "onnxruntime-node"
import { describe, expect, it } from "vitest"
import { extendModel, extensionBuilder, GraphBuilder, inspectModel, modelExtension, opsetOf, producerOf } from "../src/index.js"

const randn = (n: number, seed: number): Float32Array => {
  let s = seed
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 31 - 1
  })
}

const run = async (bytes: Uint8Array, feeds: Record<string, ort.Tensor>) => {
  const session = await ort.InferenceSession.create(bytes)
  try {
    return { outputs: await session.run(feeds), names: [...session.outputNames] }
  } finally {
    await session.release()
  }
}

/** x [batch, 4] -> hidden = x·W (internal) -> y = relu(hidden) (the only output). */
const D = 4
const K = 3
const W = randn(D * K, 7)
const baseModel = () => {
  const g = new GraphBuilder("base")
  const x = g.input("x", "float32", ["batch", D])
  const hidden = g.op("MatMul", [x, g.initializer("W", W, [D, K])], {}, { name: "proj", outputNames: ["hidden"] })
  g.output(g.op("Relu", [hidden]), { name: "y" })
  return g.toModel({ opset: 17, metadata: { source: "test" } })
}

describe("inspectModel", () => {
  it("reads opsets, inputs/outputs with types and shapes, initializers, nodes and metadata", () => {
    const m = inspectModel(baseModel())
    expect(m.irVersion).toBe(8)
    expect(opsetOf(m)).toBe(17)
    expect(m.inputs).toEqual([{ name: "x", elemType: 1, dataType: "float32", shape: ["batch", D] }])
    expect(m.outputs.map((o) => o.name)).toEqual(["y"])
    expect(m.initializers).toEqual(["W"])
    expect(producerOf(m, "hidden")).toMatchObject({ name: "proj", opType: "MatMul", inputs: ["x", "W"] })
    expect(m.metadata).toEqual({ source: "test" })
    expect(m.names.has("hidden") && m.names.has("proj") && m.names.has("W")).toBe(true)
  })

  it("rejects bytes that are not a model", () => {
    expect(() => inspectModel(new Uint8Array([8, 1]))).toThrow(/no graph field/)
  })
})

describe("extendModel + onnxruntime-node", () => {
  const xs = randn(2 * D, 3)
  const feeds = () => ({ x: new ort.Tensor("float32", xs, [2, D]) })
  // float64 references
  const hiddenRef = Array.from({ length: 2 * K }, (_, i) => {
    const [r, k] = [Math.floor(i / K), i % K]
    let s = 0
    for (let d = 0; d < D; d++) s += xs[r * D + d]! * W[d * K + k]!
    return s
  })

  it("adds outputs over internal values and new initializers; the original outputs are unchanged", async () => {
    const base = baseModel()
    const info = inspectModel(base)
    const g = extensionBuilder(info)
    const hidden = g.ref("hidden", "float32", ["batch", K])
    const scale = g.initializer("ext.scale", new Float32Array([2, -1, 0.5]), [K])
    g.output(g.op("Mul", [hidden, scale]), { name: "scaled" })
    g.output(hidden) // an internal value becomes a graph output, no node needed
    // A com.microsoft op gets its own opset import (the model had none).
    g.output(g.op("Gelu", [hidden], {}, { domain: "com.microsoft", outputTypes: ["float32"] }), { name: "gelu" })
    const extended = extendModel(base, g, { metadata: { embedflow: "yes" } })
    expect(extended.subarray(0, base.length)).toEqual(base)

    const before = await run(base, feeds())
    const after = await run(extended, feeds())
    expect(after.names).toEqual(["y", "scaled", "hidden", "gelu"])
    expect(after.outputs.y!.data).toEqual(before.outputs.y!.data)
    const h = after.outputs.hidden!.data as Float32Array
    const sc = after.outputs.scaled!.data as Float32Array
    const ge = after.outputs.gelu!.data as Float32Array
    for (let i = 0; i < 2 * K; i++) {
      expect(Math.abs(h[i]! - hiddenRef[i]!)).toBeLessThan(1e-6)
      expect(Math.abs(sc[i]! - hiddenRef[i]! * [2, -1, 0.5][i % K]!)).toBeLessThan(1e-6)
      const v = hiddenRef[i]!
      const erf = (x: number) => {
        // Abramowitz-Stegun 7.1.26 is too coarse for 1e-6; integrate instead (Simpson, float64).
        const n = 2000
        let s = 0
        for (let j = 0; j <= n; j++) {
          const t = (x * j) / n
          s += (j === 0 || j === n ? 1 : j % 2 ? 4 : 2) * Math.exp(-t * t)
        }
        return ((2 / Math.sqrt(Math.PI)) * s * x) / (3 * n)
      }
      expect(Math.abs(ge[i]! - 0.5 * v * (1 + erf(v / Math.SQRT2)))).toBeLessThan(1e-5)
    }
    const again = inspectModel(extended)
    expect(again.outputs.map((o) => o.name)).toEqual(["y", "scaled", "hidden", "gelu"])
    expect(again.opsetImports).toEqual([{ domain: "", version: 17 }, { domain: "com.microsoft", version: 1 }])
    expect(again.metadata).toEqual({ source: "test", embedflow: "yes" })
  })

  it("extends an already extended model (the suffixes merge in order)", async () => {
    const once = extendModel(baseModel(), (() => {
      const g = extensionBuilder(inspectModel(baseModel()))
      g.output(g.op("Neg", [g.ref("y", "float32")]), { name: "neg_y" })
      return g
    })())
    const info = inspectModel(once)
    const g = extensionBuilder(info)
    g.output(g.op("Abs", [g.ref("neg_y", "float32")]), { name: "abs_neg_y" })
    const twice = extendModel(once, g)
    const { outputs, names } = await run(twice, feeds())
    expect(names).toEqual(["y", "neg_y", "abs_neg_y"])
    expect(outputs.abs_neg_y!.data).toEqual(outputs.y!.data)
  })

  it("auto-named values avoid the model's names", async () => {
    const g0 = new GraphBuilder("base")
    // The base uses the names an extension builder would generate first.
    const x = g0.input("x", "float32", [1])
    g0.output(g0.op("Neg", [x], {}, { name: "Neg_0", outputNames: ["Neg_0_out0"] }), { name: "const_1" })
    const base = g0.toModel()
    const g = extensionBuilder(inspectModel(base))
    g.output(g.op("Neg", [g.op("Add", [g.ref("x", "float32"), g.constant([1])])]), { name: "z" })
    const { outputs } = await run(extendModel(base, g), { x: new ort.Tensor("float32", new Float32Array([2]), [1]) })
    expect(outputs.z!.data).toEqual(new Float32Array([-3]))
  })

  it("names what is wrong: unknown values, clashes, existing outputs, metadata keys", () => {
    const base = baseModel()
    const info = inspectModel(base)
    const unknown = extensionBuilder(info)
    unknown.output(unknown.op("Relu", [unknown.ref("nope", "float32")]), { name: "z" })
    expect(() => modelExtension(base, unknown)).toThrow(/reads "nope", which neither the model nor the extension defines \(model inputs: x; outputs: y\)/)
    const clash = new GraphBuilder("ext")
    clash.output(clash.op("Relu", [clash.ref("x", "float32")], {}, { name: "ext_relu", outputNames: ["hidden"] }))
    expect(() => modelExtension(base, clash)).toThrow(/"hidden" clashes with a name already used in the model/)
    const dup = extensionBuilder(info)
    dup.output(dup.ref("y", "float32"))
    expect(() => modelExtension(base, dup)).toThrow(/"y" is already an output of the model/)
    const ok = extensionBuilder(info)
    ok.output(ok.ref("hidden", "float32"))
    expect(() => modelExtension(base, ok, { metadata: { source: "x" } })).toThrow(/metadata key "source" already exists/)
    expect(() => ok.toModel()).toThrow(/references outside values/)
    expect(() => extensionBuilder(info).initializer("W", new Float32Array(1), [1])).toThrow(/"W" is reserved/)
  })

  it("extends a >100 MB model with one copy; the original output is bit-identical", async () => {
    // A static-encoder-like table: 280k x 100 float32 = 112 MB, Gather by token id.
    const [V, E] = [280_000, 100]
    const table = new Float32Array(V * E)
    for (let i = 0; i < table.length; i += 997) table[i] = (i % 13) - 6
    const g0 = new GraphBuilder("big")
    const ids = g0.input("ids", "int64", ["batch", "seq"])
    g0.output(g0.op("Gather", [g0.initializer("table", table, [V, E]), ids]), { name: "last_hidden_state" })
    const base = g0.toModel()
    expect(base.length).toBeGreaterThan(100e6)
    const started = performance.now()
    const info = inspectModel(base)
    const g = extensionBuilder(info)
    const mean = g.op("ReduceMean", [g.ref("last_hidden_state", "float32")], { axes: [1], keepdims: 0 })
    g.output(mean, { name: "pooled" })
    const extended = extendModel(base, g)
    // Scanning + one concatenation, no re-encoding (typically ~0.1 s; generous for loaded CI).
    expect((performance.now() - started) / 1000).toBeLessThan(3)
    const tokenIds = BigInt64Array.from([5n, 997n, 279_999n, 12_345n, 0n, 42n])
    const { outputs } = await run(extended, { ids: new ort.Tensor("int64", tokenIds, [2, 3]) })
    const h = outputs.last_hidden_state!.data as Float32Array
    const p = outputs.pooled!.data as Float32Array
    let [hiddenDiff, pooledDiff] = [0, 0]
    for (let r = 0; r < 2; r++) {
      for (let e = 0; e < E; e++) {
        let s = 0
        for (let t = 0; t < 3; t++) {
          const id = Number(tokenIds[r * 3 + t])
          hiddenDiff = Math.max(hiddenDiff, Math.abs(h[(r * 3 + t) * E + e]! - table[id * E + e]!))
          s += table[id * E + e]!
        }
        pooledDiff = Math.max(pooledDiff, Math.abs(p[r * E + e]! - s / 3))
      }
    }
    expect(hiddenDiff).toBe(0)
    expect(pooledDiff).toBeLessThan(1e-6)
  }, 30_000)
})

/** Shared graph fragments for the tiny transformer exports. */
import type { GraphBuilder, Value } from "@embedflow/onnx"

export type Weights = ReadonlyMap<string, { readonly data: Float32Array; readonly dims: ReadonlyArray<number> }>

/** Adds every weight as an initializer (in insertion order) and returns a lookup by name. */
export const addWeights = (g: GraphBuilder, weights: Weights): ((name: string) => Value) => {
  const values = new Map<string, Value>()
  for (const [name, w] of weights) values.set(name, g.initializer(name, w.data, w.dims))
  return (name) => {
    const v = values.get(name)
    if (v === undefined) throw new Error(`tiny-models: missing weight "${name}"`)
    return v
  }
}

/** x @ W + b with W stored [in, out]. */
export const linear = (g: GraphBuilder, x: Value, w: Value, b: Value): Value => g.op("Add", [g.op("MatMul", [x, w]), b])

export const layerNorm = (g: GraphBuilder, x: Value, gamma: Value, beta: Value, epsilon: number): Value =>
  g.op("LayerNormalization", [x, gamma, beta], { axis: -1, epsilon })

/** [B, S, heads*hd] -> [B, heads, S, hd] */
export const splitHeads = (g: GraphBuilder, x: Value, heads: number, headDim: number): Value =>
  g.op("Transpose", [g.op("Reshape", [x, g.constant([0, 0, heads, headDim], { dataType: "int64" })])], { perm: [0, 2, 1, 3] })

/** [B, heads, S, hd] -> [B, S, heads*hd] */
export const mergeHeads = (g: GraphBuilder, x: Value, hidden: number): Value =>
  g.op("Reshape", [g.op("Transpose", [x], { perm: [0, 2, 1, 3] }), g.constant([0, 0, hidden], { dataType: "int64" })])

export const scalarF = (g: GraphBuilder, v: number): Value => g.constant(new Float32Array([v]), { dims: [] })
export const scalarI = (g: GraphBuilder, v: number): Value => g.constant(BigInt64Array.from([BigInt(v)]), { dims: [] })

/** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)) (BERT's "gelu"). */
export const geluErf = (g: GraphBuilder, x: Value): Value => {
  const erf = g.op("Erf", [g.op("Mul", [x, scalarF(g, Math.SQRT1_2)])])
  return g.op("Mul", [g.op("Mul", [x, scalarF(g, 0.5)]), g.op("Add", [erf, scalarF(g, 1)])])
}

/** Tanh GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (GPT-2's "gelu_new"). */
export const geluTanh = (g: GraphBuilder, x: Value): Value => {
  const x3 = g.op("Mul", [g.op("Mul", [x, x]), x])
  const inner = g.op("Mul", [g.op("Add", [x, g.op("Mul", [x3, scalarF(g, 0.044715)])]), scalarF(g, Math.sqrt(2 / Math.PI))])
  return g.op("Mul", [g.op("Mul", [x, scalarF(g, 0.5)]), g.op("Add", [g.op("Tanh", [inner]), scalarF(g, 1)])])
}

/** Sequence length (dim `axis` of x) as an int64 scalar. */
export const dimOf = (g: GraphBuilder, x: Value, axis: number): Value =>
  g.op("Gather", [g.op("Shape", [x]), scalarI(g, axis)], { axis: 0 })

/** float32's most negative finite value, the additive mask HF uses. */
export const FLOAT32_MIN = -3.4028234663852886e38

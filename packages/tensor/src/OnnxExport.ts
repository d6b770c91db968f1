/**
 * Emits a head's math (its `describe()` steps) as ONNX nodes with @embedflow/onnx's GraphBuilder, so
 * a trained head can be appended to an exported backbone + pooling graph. Weights are copied into
 * initializers at call time (later training does not change the graph). Needs default-domain opset ≥ 13.
 */
import { type GraphBuilder, type Value } from "@embedflow/onnx"
import { type Head, type HeadStep } from "./Head.js"

export interface HeadToOnnxOptions {
  /** Prefix of the initializer names (default "head."); must keep them unique in the builder. */
  readonly prefix?: string
  /** Append row-wise L2 normalisation y / max(‖y‖, eps), as l2Normalize does (default false). */
  readonly normalize?: boolean
  /** eps of the normalisation (default 1e-12). */
  readonly eps?: number
}

/**
 * Appends `head` to `builder` and returns its output value. `input` is an existing value
 * (e.g. the pooled embedding) or the name of a new float32 graph input of shape [batch, inputDim].
 */
export const headToOnnx = (builder: GraphBuilder, head: Head, input: Value | string, options: HeadToOnnxOptions = {}): Value => {
  const graph = head.describe()
  const prefix = options.prefix ?? "head."
  const x = typeof input === "string" ? builder.input(input, "float32", ["batch", graph.inputDim]) : input
  const initializers = new Map<string, Value>()
  const weight = (name: string): Value => {
    let v = initializers.get(name)
    if (v === undefined) {
      const w = graph.weights[name]
      if (w === undefined) throw new Error(`headToOnnx: ${graph.kind} head step refers to unknown weight "${name}"`)
      v = builder.initializer(`${prefix}${name}`, w.data.slice(), w.shape)
      initializers.set(name, v)
    }
    return v
  }
  const scalar = (value: number): Value => builder.constant(new Float32Array([value]), { dims: [] })
  const emit = (steps: ReadonlyArray<HeadStep>, v: Value): Value => {
    for (const step of steps) {
      switch (step.op) {
        case "matmul":
          v = builder.op("MatMul", [v, weight(step.weight)])
          break
        case "addBias":
          v = builder.op("Add", [v, weight(step.bias)])
          break
        case "relu":
          v = builder.op("Relu", [v])
          break
        case "gelu": {
          // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), the same approximation as the TS forward.
          const cube = builder.op("Mul", [builder.op("Mul", [v, v]), v])
          const inner = builder.op("Add", [v, builder.op("Mul", [cube, scalar(0.044715)])])
          const t = builder.op("Tanh", [builder.op("Mul", [inner, scalar(Math.sqrt(2 / Math.PI))])])
          v = builder.op("Mul", [builder.op("Mul", [v, scalar(0.5)]), builder.op("Add", [t, scalar(1)])])
          break
        }
        case "residual": {
          let body = emit(step.body, v)
          if (step.scale !== 1) body = builder.op("Mul", [body, scalar(step.scale)])
          v = builder.op("Add", [v, body])
          break
        }
      }
    }
    return v
  }
  let y = emit(graph.steps, x)
  if (options.normalize) {
    const sum = builder.op("ReduceSum", [builder.op("Mul", [y, y]), builder.constant([-1], { dataType: "int64" })], { keepdims: 1 })
    const norm = builder.op("Max", [builder.op("Sqrt", [sum]), scalar(options.eps ?? 1e-12)])
    y = builder.op("Div", [y, norm])
  }
  return y
}

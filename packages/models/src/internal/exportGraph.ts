/**
 * The ONNX extension that turns a backbone graph into a sentence encoder: masked pooling over the
 * per-token hidden state, an optional trained head, optional L2 normalisation, output
 * `sentence_embedding` [batch, dim]. Emitted at the backbone's own default-domain opset (opset ≥ 11),
 * choosing the attribute or input form of `axes` by version, since appending cannot change it.
 */
import { type GraphBuilder, type ModelSummary, opsetOf, type Value } from "@embedflow/onnx"
import { type Head, headToOnnx, type TokenDelta } from "@embedflow/tensor"

/** Pooling an exported encoder can bake into its graph. */
export type ExportPooling = "cls" | "mean" | "last-token"

export const SENTENCE_EMBEDDING = "sentence_embedding"
/** The bag-of-vectors contract output: last_hidden_state[b, t] = token_scale[b, t] · E[input_ids[b, t]]. */
export const TOKEN_SCALE = "token_scale"
export const MIN_OPSET = 11

export interface PoolingGraphOptions {
  readonly hidden: string
  readonly dim: number
  readonly pooling: ExportPooling
  readonly normalize: boolean
  readonly head?: Head | undefined
  /** Trained word-vector deltas (needs a `token_scale` output and `vocabSize`). */
  readonly tokenDelta?: TokenDelta | undefined
  /** Number of token ids the backbone takes (config.json vocab_size); sizes the id -> delta row table. */
  readonly vocabSize?: number | undefined
}

/** Emits the graph into `g` (an extension builder of `model`); returns the output's dim. */
export const emitSentenceEmbedding = (g: GraphBuilder, model: ModelSummary, options: PoolingGraphOptions): number => {
  const opset = opsetOf(model) ?? 0
  const i64 = (values: ReadonlyArray<number>, dims?: ReadonlyArray<number>) => g.constant(values, { dataType: "int64", ...(dims ? { dims } : {}) })
  const f32 = (value: number) => g.constant(new Float32Array([value]), { dims: [] })
  // ReduceSum/Unsqueeze take axes as an input from opset 13, the other reductions from 18.
  const reduce = (op: "ReduceSum" | "ReduceMax", x: Value, axis: number, keepdims: 0 | 1) =>
    opset >= (op === "ReduceSum" ? 13 : 18) ? g.op(op, [x, i64([axis])], { keepdims }) : g.op(op, [x], { axes: [axis], keepdims })
  const unsqueeze = (x: Value, axis: number) => (opset >= 13 ? g.op("Unsqueeze", [x, i64([axis])]) : g.op("Unsqueeze", [x], { axes: [axis] }))

  let hidden = g.ref(options.hidden, "float32", ["batch", "sequence", options.dim])
  if (options.tokenDelta !== undefined) hidden = emitTokenDelta(g, model, hidden, options, unsqueeze)
  let pooled: Value
  if (options.pooling === "cls") {
    pooled = g.op("Gather", [hidden, i64([0], [])], { axis: 1 })
  } else {
    const maskInfo = model.inputs.find((v) => v.name === "attention_mask")
    if (maskInfo === undefined) throw new Error(`${options.pooling} pooling needs an attention_mask input; the graph has ${model.inputs.map((v) => v.name).join(", ")}`)
    const mask = g.op("Cast", [g.ref("attention_mask", maskInfo.dataType ?? "int64")], { to: 1 })
    let weights: Value
    if (options.pooling === "mean") weights = mask
    else {
      // The last real token whatever the padding side: the maximum of cumsum(mask)·mask.
      const rank = g.op("Mul", [g.op("CumSum", [mask, i64([1], [])]), mask])
      weights = g.op("Cast", [g.op("Equal", [rank, reduce("ReduceMax", rank, 1, 1)])], { to: 1 })
    }
    const summed = reduce("ReduceSum", g.op("Mul", [hidden, unsqueeze(weights, 2)]), 1, 0)
    pooled = options.pooling === "mean" ? g.op("Div", [summed, g.op("Max", [reduce("ReduceSum", mask, 1, 1), f32(1)])]) : summed
  }
  let y = pooled
  let dim = options.dim
  if (options.head !== undefined) {
    if (options.head.inputDim !== options.dim) {
      throw new Error(`the head takes ${options.head.inputDim}-dim inputs but the backbone's hidden state has ${options.dim} dims`)
    }
    y = headToOnnx(g, options.head, pooled, { prefix: "embedflow.head." })
    dim = options.head.outputDim
  }
  if (options.normalize) {
    // y / max(‖y‖, 1e-12), as the Encoder's pooling does.
    const norm = g.op("Max", [g.op("Sqrt", [reduce("ReduceSum", g.op("Mul", [y, y]), 1, 1)]), f32(1e-12)])
    y = g.op("Div", [y, norm])
  }
  g.output(y, { name: SENTENCE_EMBEDDING, dataType: "float32", shape: ["batch", dim] })
  return dim
}

/**
 * hidden + token_scale · Δ[input_ids]: the word vectors with their trained deltas, for a
 * bag-of-vectors backbone (hidden state = token_scale · E[id]). Δ is stored compactly: an int32
 * table maps every id to its delta row (0 = a zero row for ids that were not tuned).
 */
const emitTokenDelta = (
  g: GraphBuilder,
  model: ModelSummary,
  hidden: Value,
  options: PoolingGraphOptions,
  unsqueeze: (x: Value, axis: number) => Value
): Value => {
  const delta = options.tokenDelta!
  if (!model.outputs.some((o) => o.name === TOKEN_SCALE)) {
    throw new Error(`a token delta needs a bag-of-vectors backbone with a ${TOKEN_SCALE} output; the graph's outputs are ${model.outputs.map((o) => o.name).join(", ")}`)
  }
  const ids = model.inputs.find((v) => v.name === "input_ids")
  if (ids === undefined) throw new Error("a token delta needs an input_ids input")
  if (delta.dim !== options.dim) throw new Error(`the token delta has ${delta.dim}-dim rows but the backbone's hidden state has ${options.dim} dims`)
  const vocabSize = options.vocabSize
  if (vocabSize === undefined || !(vocabSize > 0)) throw new Error("a token delta needs the backbone's vocabulary size (config.json vocab_size)")
  const rowOf = new Int32Array(vocabSize)
  delta.tokens.forEach((token, r) => {
    if (token >= vocabSize) throw new Error(`the token delta has token id ${token}, beyond the backbone's vocabulary of ${vocabSize}`)
    rowOf[token] = r + 1
  })
  const table = new Float32Array((delta.tokens.length + 1) * delta.dim)
  table.set(delta.delta.value, delta.dim)
  const rows = g.op("Gather", [g.initializer("embedflow.token_delta.row_of", rowOf, [vocabSize]), g.ref("input_ids", ids.dataType ?? "int64")], { axis: 0 })
  const deltas = g.op("Gather", [g.initializer("embedflow.token_delta.rows", table, [delta.tokens.length + 1, delta.dim]), rows], { axis: 0 })
  const scale = unsqueeze(g.ref(TOKEN_SCALE, "float32", ["batch", "sequence"]), 2)
  return g.op("Add", [hidden, g.op("Mul", [deltas, scale])])
}

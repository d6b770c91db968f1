/**
 * The ONNX graph of a static encoder: a Gather of the embedding matrix, shaped like a transformer's
 * output so any "mean pooling over last_hidden_state with the attention mask" code computes the
 * average of in-vocabulary word vectors (variant "mean") or the SIF-weighted average ("sif").
 *
 *   inputs : input_ids, attention_mask  int64 [batch, seq]
 *   outputs: last_hidden_state float32 [batch, seq, dim]
 *            token_weights     float32 [batch, seq]  SIF weight per token (0 for [PAD]/[UNK]/masked)
 *            token_scale       float32 [batch, seq]  s with last_hidden_state[b, t] = s[b, t] · E[input_ids[b, t]]
 *
 * `token_scale` is the bag-of-vectors contract that token-level training relies on: a trainer can
 * add a delta to a word's row of E without rebuilding this graph, since the pooled output is linear
 * in E (packages/models `readTokenBags`, `exportEncoder`'s `tokenDelta`).
 *
 * Rows 0 and 1 of the matrix are [PAD] and [UNK] (zero vectors). Masked mean pooling divides by the
 * number of attended tokens, but the reference average divides by the in-vocabulary ones, so each
 * known token's vector is scaled by (attended / known) for its text: pooling then gives exactly
 * Σ_known w·v / n_known. (The scale matters for principal-component removal, not for cosines.)
 */
import { GraphBuilder } from "@embedflow/onnx"

export type Variant = "mean" | "sif"

export const SPECIAL_TOKENS = ["[PAD]", "[UNK]"] as const
export const PAD_ID = 0
export const UNK_ID = 1

export interface StaticEncoderOnnxInput {
  /** Row-major [rows x dim] word vectors; row r gets token id r + 2. */
  readonly vectors: Float32Array
  readonly rows: number
  readonly dim: number
  /** SIF weight per row (length rows). */
  readonly sifWeights: Float32Array
  readonly variant: Variant
  readonly docString?: string
}

/** The [rows + 2, dim] id-indexed table: zero rows for [PAD] and [UNK], then the words. */
export const embeddingTable = (vectors: Float32Array, rows: number, dim: number): Float32Array => {
  if (vectors.length < rows * dim) throw new RangeError(`embeddingTable: ${vectors.length} values for ${rows} x ${dim}`)
  const table = new Float32Array((rows + SPECIAL_TOKENS.length) * dim)
  table.set(vectors.subarray(0, rows * dim), SPECIAL_TOKENS.length * dim)
  return table
}

/**
 * Serializes the model. Pass `table` (from `embeddingTable`) to share one copy of the matrix
 * between variants; otherwise it is built from `vectors`.
 */
export const staticEncoderOnnx = (input: StaticEncoderOnnxInput, table?: Float32Array): Uint8Array => {
  const { rows, dim, variant } = input
  const ids = rows + SPECIAL_TOKENS.length
  const matrix = table ?? embeddingTable(input.vectors, rows, dim)
  if (matrix.length !== ids * dim) throw new RangeError(`staticEncoderOnnx: table has ${matrix.length} values, expected ${ids} x ${dim}`)
  if (input.sifWeights.length !== rows) throw new RangeError(`staticEncoderOnnx: ${input.sifWeights.length} SIF weights for ${rows} rows`)
  const weights = new Float32Array(ids)
  weights.set(input.sifWeights, SPECIAL_TOKENS.length)

  const g = new GraphBuilder(`static-encoder-${variant}`)
  const inputIds = g.input("input_ids", "int64", ["batch", "sequence"])
  const attentionMask = g.input("attention_mask", "int64", ["batch", "sequence"])
  const embeddings = g.initializer("embeddings", matrix, [ids, dim])
  const sif = g.initializer("sif_weights", weights, [ids])
  const axis1 = g.constant([1], { dataType: "int64", name: "axis_1" })
  const axis2 = g.constant([2], { dataType: "int64", name: "axis_2" })

  const mask = g.op("Cast", [attentionMask], { to: 1 })
  const isWord = g.op("Cast", [g.op("Greater", [inputIds, g.constant([UNK_ID], { dataType: "int64", dims: [], name: "unk_id" })])], { to: 1 })
  const known = g.op("Mul", [isWord, mask])
  const attended = g.op("ReduceSum", [mask, axis1], { keepdims: 1 })
  const knownCount = g.op("Max", [g.op("ReduceSum", [known, axis1], { keepdims: 1 }), g.constant([1], { dims: [], name: "one" })])
  const perToken = g.op("Mul", [known, g.op("Div", [attended, knownCount])])
  const tokenWeights = g.op("Mul", [g.op("Gather", [sif, inputIds], { axis: 0 }), known])
  const factor = variant === "sif" ? g.op("Mul", [perToken, tokenWeights]) : perToken
  const hidden = g.op("Mul", [g.op("Gather", [embeddings, inputIds], { axis: 0 }), g.op("Unsqueeze", [factor, axis2])])
  g.output(hidden, { name: "last_hidden_state", shape: ["batch", "sequence", dim] })
  g.output(tokenWeights, { name: "token_weights", shape: ["batch", "sequence"] })
  g.output(factor, { name: "token_scale", shape: ["batch", "sequence"] })
  return g.toModel({
    opset: 17,
    producerName: "@embedflow/static-encoder",
    ...(input.docString !== undefined ? { docString: input.docString } : {}),
    metadata: { variant, pooling: "mean" }
  })
}

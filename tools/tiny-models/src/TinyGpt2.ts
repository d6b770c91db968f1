/**
 * A tiny GPT-2 (Hugging Face GPT2LMHeadModel layout) with deterministic random weights, exported
 * to ONNX with a KV cache in the optimum/transformers.js "with past" form.
 */
import { GraphBuilder, type Value } from "@embedflow/onnx"
import { makeRng, normalArray } from "./Rng.js"
import {
  addWeights,
  dimOf,
  FLOAT32_MIN,
  geluTanh,
  layerNorm,
  linear,
  mergeHeads,
  scalarF,
  scalarI,
  splitHeads,
  type Weights
} from "./internal/graph.js"

export interface Gpt2Config {
  readonly vocabSize: number
  readonly nEmbd: number
  readonly nLayer: number
  readonly nHead: number
  readonly nInner: number
  readonly nPositions: number
  readonly layerNormEps: number
  readonly bosTokenId: number
  readonly eosTokenId: number
}

export const tinyGpt2Config = (vocabSize: number, endOfTextId: number): Gpt2Config => ({
  vocabSize,
  nEmbd: 32,
  nLayer: 2,
  nHead: 2,
  nInner: 128,
  nPositions: 256,
  layerNormEps: 1e-5,
  bosTokenId: endOfTextId,
  eosTokenId: endOfTextId
})

type MutableWeights = Map<string, { data: Float32Array; dims: Array<number> }>

/**
 * Weights named as in Hugging Face GPT2LMHeadModel (Conv1D weights are already [in, out]);
 * `lm_head.weight` is stored [n_embd, vocab] (MatMul-ready) and is not tied to wte, so that
 * next-token distributions are peaked (logit std about 5) yet depend on the whole context.
 */
export const gpt2Weights = (c: Gpt2Config, seed: number): Weights => {
  const rng = makeRng(seed)
  const w: MutableWeights = new Map()
  const put = (name: string, dims: Array<number>, std: number, mean = 0) =>
    w.set(name, { data: normalArray(rng, dims.reduce((a, b) => a * b, 1), std, mean), dims })
  const E = c.nEmbd
  const norm = (name: string) => {
    put(`${name}.weight`, [E], 0.1, 1)
    put(`${name}.bias`, [E], 0.1)
  }
  put("transformer.wte.weight", [c.vocabSize, E], 0.5)
  put("transformer.wpe.weight", [c.nPositions, E], 0.1)
  for (let l = 0; l < c.nLayer; l++) {
    const p = `transformer.h.${l}`
    norm(`${p}.ln_1`)
    put(`${p}.attn.c_attn.weight`, [E, 3 * E], 1.5 / Math.sqrt(E)) // sharper attention than 1/sqrt(fan_in)
    put(`${p}.attn.c_attn.bias`, [3 * E], 0.1)
    put(`${p}.attn.c_proj.weight`, [E, E], 1 / Math.sqrt(E))
    put(`${p}.attn.c_proj.bias`, [E], 0.1)
    norm(`${p}.ln_2`)
    put(`${p}.mlp.c_fc.weight`, [E, c.nInner], 1 / Math.sqrt(E))
    put(`${p}.mlp.c_fc.bias`, [c.nInner], 0.1)
    put(`${p}.mlp.c_proj.weight`, [c.nInner, E], 1 / Math.sqrt(c.nInner))
    put(`${p}.mlp.c_proj.bias`, [E], 0.1)
  }
  norm("transformer.ln_f")
  put("lm_head.weight", [E, c.vocabSize], 1)
  return w
}

/**
 * ONNX graph.
 * Inputs: input_ids, position_ids int64 [batch_size, sequence_length]; attention_mask int64
 * [batch_size, total_sequence_length] (past + current); past_key_values.{i}.key/.value float32
 * [batch_size, n_head, past_sequence_length, head_dim].
 * Outputs: logits float32 [batch_size, sequence_length, vocab]; present.{i}.key/.value float32
 * [batch_size, n_head, total_sequence_length, head_dim]; last_hidden_state float32
 * [batch_size, sequence_length, n_embd] (after ln_f, as GPT2Model returns it).
 */
export const gpt2Onnx = (c: Gpt2Config, weights: Weights): Uint8Array => {
  const g = new GraphBuilder("tiny_gpt2")
  const E = c.nEmbd
  const headDim = E / c.nHead
  const inputIds = g.input("input_ids", "int64", ["batch_size", "sequence_length"])
  const attentionMask = g.input("attention_mask", "int64", ["batch_size", "total_sequence_length"])
  const positionIds = g.input("position_ids", "int64", ["batch_size", "sequence_length"])
  const past = Array.from({ length: c.nLayer }, (_, l) => ({
    key: g.input(`past_key_values.${l}.key`, "float32", ["batch_size", c.nHead, "past_sequence_length", headDim]),
    value: g.input(`past_key_values.${l}.value`, "float32", ["batch_size", c.nHead, "past_sequence_length", headDim])
  }))
  const W = addWeights(g, weights)
  const ln = (x: Value, name: string) => layerNorm(g, x, W(`${name}.weight`), W(`${name}.bias`), c.layerNormEps)
  const dense = (x: Value, name: string) => linear(g, x, W(`${name}.weight`), W(`${name}.bias`))

  // Query at absolute position past+i may see key j iff j <= past+i and attention_mask[b, j] = 1.
  const S = dimOf(g, inputIds, 1)
  const T = dimOf(g, attentionMask, 1)
  const queryPos = g.op("Unsqueeze", [g.op("Range", [g.op("Sub", [T, S]), T, scalarI(g, 1)]), g.constant([1], { dataType: "int64" })])
  const keyPos = g.op("Range", [scalarI(g, 0), T, scalarI(g, 1)])
  const causal = g.op("LessOrEqual", [keyPos, queryPos]) // [S, T]
  const notPadding = g.op("Unsqueeze", [g.op("Cast", [attentionMask], { to: 9 }), g.constant([1, 2], { dataType: "int64" })])
  const allowed = g.op("And", [causal, notPadding]) // [B, 1, S, T]
  const masked = scalarF(g, FLOAT32_MIN)

  let h = g.op("Add", [
    g.op("Gather", [W("transformer.wte.weight"), inputIds], { axis: 0 }),
    g.op("Gather", [W("transformer.wpe.weight"), positionIds], { axis: 0 })
  ])
  for (let l = 0; l < c.nLayer; l++) {
    const p = `transformer.h.${l}`
    const qkv = dense(ln(h, `${p}.ln_1`), `${p}.attn.c_attn`)
    const [q, k, v] = g.opMulti("Split", [qkv, g.constant([E, E, E], { dataType: "int64" })], 3, { axis: -1 })
    const key = g.op("Concat", [past[l].key, splitHeads(g, k, c.nHead, headDim)], { axis: 2 })
    const value = g.op("Concat", [past[l].value, splitHeads(g, v, c.nHead, headDim)], { axis: 2 })
    g.output(key, { name: `present.${l}.key`, shape: ["batch_size", c.nHead, "total_sequence_length", headDim] })
    g.output(value, { name: `present.${l}.value`, shape: ["batch_size", c.nHead, "total_sequence_length", headDim] })
    const scores = g.op("Mul", [
      g.op("MatMul", [splitHeads(g, q, c.nHead, headDim), g.op("Transpose", [key], { perm: [0, 1, 3, 2] })]),
      scalarF(g, 1 / Math.sqrt(headDim))
    ])
    const probs = g.op("Softmax", [g.op("Where", [allowed, scores, masked])], { axis: -1 })
    h = g.op("Add", [h, dense(mergeHeads(g, g.op("MatMul", [probs, value]), E), `${p}.attn.c_proj`)])
    const ff = dense(geluTanh(g, dense(ln(h, `${p}.ln_2`), `${p}.mlp.c_fc`)), `${p}.mlp.c_proj`)
    h = g.op("Add", [h, ff])
  }
  const hidden = ln(h, "transformer.ln_f")
  const logits = g.op("MatMul", [hidden, W("lm_head.weight")])
  g.output(logits, { name: "logits", shape: ["batch_size", "sequence_length", c.vocabSize] })
  // Extra output (GPT2Model's last_hidden_state) for PromptEOL-style pooling; transformers.js ignores it.
  g.output(hidden, { name: "last_hidden_state", shape: ["batch_size", "sequence_length", E] })
  return g.toModel({ opset: 17 })
}

/** config.json in Hugging Face GPT2Config form. */
export const gpt2HfConfig = (c: Gpt2Config): object => ({
  architectures: ["GPT2LMHeadModel"],
  model_type: "gpt2",
  vocab_size: c.vocabSize,
  n_embd: c.nEmbd,
  n_layer: c.nLayer,
  n_head: c.nHead,
  n_inner: c.nInner,
  n_positions: c.nPositions,
  n_ctx: c.nPositions,
  activation_function: "gelu_new",
  layer_norm_epsilon: c.layerNormEps,
  resid_pdrop: 0,
  embd_pdrop: 0,
  attn_pdrop: 0,
  bos_token_id: c.bosTokenId,
  eos_token_id: c.eosTokenId,
  tie_word_embeddings: false,
  use_cache: true
})

export const gpt2GenerationConfig = (c: Gpt2Config): object => ({
  bos_token_id: c.bosTokenId,
  eos_token_id: c.eosTokenId,
  pad_token_id: c.eosTokenId
})

/** Builds one input tensor of the runtime in use, e.g. `(type, data, dims) => new ort.Tensor(type, data, dims)`. */
export type TensorFactory<T> = (type: "int64" | "float32", data: BigInt64Array | Float32Array, dims: ReadonlyArray<number>) => T

/**
 * The inputs of one unbatched forward pass over a whole prompt with an empty KV cache: the ids,
 * an all-ones mask, positions 0..n-1 and zero-length past keys/values for every layer.
 */
export const gpt2PromptFeeds = <T>(ids: ReadonlyArray<number>, config: Pick<Gpt2Config, "nLayer" | "nHead" | "nEmbd">, tensor: TensorFactory<T>): Record<string, T> => {
  const row = (f: (i: number) => number) => tensor("int64", BigInt64Array.from(ids, (_, i) => BigInt(f(i))), [1, ids.length])
  const empty = tensor("float32", new Float32Array(0), [1, config.nHead, 0, config.nEmbd / config.nHead])
  const feeds: Record<string, T> = { input_ids: row((i) => ids[i]!), attention_mask: row(() => 1), position_ids: row((i) => i) }
  for (let l = 0; l < config.nLayer; l++) feeds[`past_key_values.${l}.key`] = feeds[`past_key_values.${l}.value`] = empty
  return feeds
}

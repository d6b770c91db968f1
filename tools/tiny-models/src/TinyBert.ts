/**
 * A tiny BERT (Hugging Face BertModel layout) with deterministic random weights, exported to ONNX
 * as a feature extractor (last_hidden_state) or a 1-label sequence classifier (logits).
 */
import { GraphBuilder, type Value } from "@embedflow/onnx"
import { makeRng, normalArray } from "./Rng.js"
import {
  addWeights,
  dimOf,
  FLOAT32_MIN,
  geluErf,
  layerNorm,
  linear,
  mergeHeads,
  scalarF,
  scalarI,
  splitHeads,
  type Weights
} from "./internal/graph.js"

export interface BertConfig {
  readonly vocabSize: number
  readonly hiddenSize: number
  readonly numLayers: number
  readonly numHeads: number
  readonly intermediateSize: number
  readonly maxPositions: number
  readonly typeVocabSize: number
  readonly layerNormEps: number
}

export const tinyBertConfig = (vocabSize: number): BertConfig => ({
  vocabSize,
  hiddenSize: 32,
  numLayers: 2,
  numHeads: 2,
  intermediateSize: 64,
  maxPositions: 128,
  typeVocabSize: 2,
  layerNormEps: 1e-12
})

type MutableWeights = Map<string, { data: Float32Array; dims: Array<number> }>

/**
 * Backbone weights named as in Hugging Face BertModel, except that dense `.weight`s are stored
 * [in, out] (MatMul-ready, the transpose of torch.nn.Linear).
 */
export const bertWeights = (c: BertConfig, seed: number): Weights => {
  const rng = makeRng(seed)
  const w: MutableWeights = new Map()
  const put = (name: string, dims: Array<number>, std: number, mean = 0) =>
    w.set(name, { data: normalArray(rng, dims.reduce((a, b) => a * b, 1), std, mean), dims })
  const H = c.hiddenSize
  const dense = (name: string, fanIn: number, fanOut: number) => {
    put(`${name}.weight`, [fanIn, fanOut], 1 / Math.sqrt(fanIn))
    put(`${name}.bias`, [fanOut], 0.1)
  }
  const norm = (name: string) => {
    put(`${name}.weight`, [H], 0.1, 1)
    put(`${name}.bias`, [H], 0.1)
  }
  put("embeddings.word_embeddings.weight", [c.vocabSize, H], 0.5)
  put("embeddings.position_embeddings.weight", [c.maxPositions, H], 0.2)
  put("embeddings.token_type_embeddings.weight", [c.typeVocabSize, H], 0.2)
  norm("embeddings.LayerNorm")
  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}`
    dense(`${p}.attention.self.query`, H, H)
    dense(`${p}.attention.self.key`, H, H)
    dense(`${p}.attention.self.value`, H, H)
    dense(`${p}.attention.output.dense`, H, H)
    norm(`${p}.attention.output.LayerNorm`)
    dense(`${p}.intermediate.dense`, H, c.intermediateSize)
    dense(`${p}.output.dense`, c.intermediateSize, H)
    norm(`${p}.output.LayerNorm`)
  }
  return w
}

/** Pooler (tanh dense on [CLS]) and a 1-label classifier, as in BertForSequenceClassification. */
export const bertClassifierWeights = (c: BertConfig, seed: number): Weights => {
  const rng = makeRng(seed)
  const H = c.hiddenSize
  return new Map([
    ["bert.pooler.dense.weight", { data: normalArray(rng, H * H, 1 / Math.sqrt(H)), dims: [H, H] }],
    ["bert.pooler.dense.bias", { data: normalArray(rng, H, 0.1), dims: [H] }],
    ["classifier.weight", { data: normalArray(rng, H, 1 / Math.sqrt(H)), dims: [H, 1] }],
    ["classifier.bias", { data: normalArray(rng, 1, 0.1), dims: [1] }]
  ])
}

/**
 * ONNX graph. Inputs input_ids, attention_mask, token_type_ids: int64 [batch_size, sequence_length].
 * Output last_hidden_state float32 [batch_size, sequence_length, hidden] or, with classifier
 * weights, logits float32 [batch_size, 1].
 */
export const bertOnnx = (c: BertConfig, backbone: Weights, classifier?: Weights): Uint8Array => {
  const g = new GraphBuilder(classifier ? "tiny_bert_cross" : "tiny_bert")
  const dims = ["batch_size", "sequence_length"]
  const inputIds = g.input("input_ids", "int64", dims)
  const attentionMask = g.input("attention_mask", "int64", dims)
  const tokenTypeIds = g.input("token_type_ids", "int64", dims)
  const W = addWeights(g, backbone)
  const H = c.hiddenSize
  const headDim = H / c.numHeads

  const positions = g.op("Range", [scalarI(g, 0), dimOf(g, inputIds, 1), scalarI(g, 1)])
  const embeddings = g.op("Add", [
    g.op("Add", [
      g.op("Gather", [W("embeddings.word_embeddings.weight"), inputIds], { axis: 0 }),
      g.op("Gather", [W("embeddings.token_type_embeddings.weight"), tokenTypeIds], { axis: 0 })
    ]),
    g.op("Gather", [W("embeddings.position_embeddings.weight"), positions], { axis: 0 })
  ])
  const ln = (x: Value, name: string) => layerNorm(g, x, W(`${name}.weight`), W(`${name}.bias`), c.layerNormEps)
  const dense = (x: Value, name: string) => linear(g, x, W(`${name}.weight`), W(`${name}.bias`))

  // (1 - mask) * float32.min, broadcast over heads and query positions: [B, 1, 1, S]
  const keep = g.op("Cast", [attentionMask], { to: 1 })
  const additiveMask = g.op("Unsqueeze", [
    g.op("Mul", [g.op("Sub", [scalarF(g, 1), keep]), scalarF(g, FLOAT32_MIN)]),
    g.constant([1, 2], { dataType: "int64" })
  ])

  let h = ln(embeddings, "embeddings.LayerNorm")
  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}`
    const q = splitHeads(g, dense(h, `${p}.attention.self.query`), c.numHeads, headDim)
    const k = splitHeads(g, dense(h, `${p}.attention.self.key`), c.numHeads, headDim)
    const v = splitHeads(g, dense(h, `${p}.attention.self.value`), c.numHeads, headDim)
    const scores = g.op("Add", [
      g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], { perm: [0, 1, 3, 2] })]), scalarF(g, 1 / Math.sqrt(headDim))]),
      additiveMask
    ])
    const context = mergeHeads(g, g.op("MatMul", [g.op("Softmax", [scores], { axis: -1 }), v]), H)
    h = ln(g.op("Add", [dense(context, `${p}.attention.output.dense`), h]), `${p}.attention.output.LayerNorm`)
    const ff = dense(geluErf(g, dense(h, `${p}.intermediate.dense`)), `${p}.output.dense`)
    h = ln(g.op("Add", [ff, h]), `${p}.output.LayerNorm`)
  }

  if (classifier === undefined) {
    g.output(h, { name: "last_hidden_state", shape: ["batch_size", "sequence_length", H] })
  } else {
    const C = addWeights(g, classifier)
    const cls = g.op("Gather", [h, scalarI(g, 0)], { axis: 1 })
    const pooled = g.op("Tanh", [linear(g, cls, C("bert.pooler.dense.weight"), C("bert.pooler.dense.bias"))])
    g.output(linear(g, pooled, C("classifier.weight"), C("classifier.bias")), { name: "logits", shape: ["batch_size", 1] })
  }
  return g.toModel({ opset: 17 })
}

/** config.json in Hugging Face BertConfig form. */
export const bertHfConfig = (c: BertConfig, classifier: boolean): object => ({
  architectures: [classifier ? "BertForSequenceClassification" : "BertModel"],
  model_type: "bert",
  vocab_size: c.vocabSize,
  hidden_size: c.hiddenSize,
  num_hidden_layers: c.numLayers,
  num_attention_heads: c.numHeads,
  intermediate_size: c.intermediateSize,
  hidden_act: "gelu",
  hidden_dropout_prob: 0,
  attention_probs_dropout_prob: 0,
  max_position_embeddings: c.maxPositions,
  type_vocab_size: c.typeVocabSize,
  layer_norm_eps: c.layerNormEps,
  pad_token_id: 0,
  position_embedding_type: "absolute",
  initializer_range: 0.02,
  ...(classifier ? { num_labels: 1, id2label: { "0": "LABEL_0" }, label2id: { LABEL_0: 0 }, problem_type: "regression" } : {})
})

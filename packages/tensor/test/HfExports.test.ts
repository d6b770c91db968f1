/**
 * The loader on Hugging Face export layouts (test/hfExports.ts): wrapper prefixes, anonymous
 * onnx::MatMul weights found through their node, torch-layout weights behind Transpose, a
 * decomposed LayerNorm, GPT-2's fused c_attn Gemm, tied LM heads, OPT's position offset. Parameters
 * must come back exactly, forwards must equal onnxruntime's, and exports must carry new weights.
 */
import * as ort from "onnxruntime-node"
import { describe, expect, it } from "vitest"
import {
  BertEncoder, type BertConfig, type DecoderConfig, exportOnnxModel, Gpt2Decoder, loadOnnxModelBytes, padBatch, Rng, type TokenBatch
} from "../src/index.js"
import { bertHfExport, decoderHfExport } from "./hfExports.js"

const i64 = (a: ArrayLike<number>, dims: Array<number>) => new ort.Tensor("int64", BigInt64Array.from(Array.from(a), (v) => BigInt(v)), dims)
const run = async (bytes: Uint8Array, feeds: Record<string, ort.Tensor>, output: string) => {
  const s = await ort.InferenceSession.create(bytes)
  try {
    return (await s.run(feeds))[output].data as Float32Array
  } finally {
    await s.release()
  }
}
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>, rows?: (r: number) => boolean, width = 1) => {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) if (!rows || rows(Math.floor(i / width))) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}
const shake = (params: ReadonlyArray<{ name: string; value: Float32Array }>, seed: number) => {
  const rng = new Rng(seed)
  for (const p of params) {
    rng.fillNormal(p.value, 0, 0.3)
    if (/(LayerNorm|layer_norm)\.weight$/.test(p.name)) for (let i = 0; i < p.value.length; i++) p.value[i] += 1
  }
}

describe("BERT export layout (bert. prefix, onnx::MatMul weights, [out, in] + Transpose, decomposed LayerNorm)", () => {
  const config: BertConfig = { vocabSize: 50, hiddenSize: 16, numLayers: 2, numHeads: 4, intermediateSize: 32, maxPositions: 16, typeVocabSize: 2, layerNormEps: 1e-12 }
  const hf = { model_type: "bert", vocab_size: 50, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 32, max_position_embeddings: 16, type_vocab_size: 2, layer_norm_eps: 1e-12, hidden_act: "gelu" }

  it("loads every parameter exactly, runs as onnxruntime does, exports new weights", async () => {
    const source = new BertEncoder(config)
    shake(source.allParams(), 1)
    const bytes = bertHfExport(source)
    const loaded = loadOnnxModelBytes(bytes, hf, "bert-hf.onnx")
    const model = loaded.model as BertEncoder
    model.allParams().forEach((p, k) => expect(maxDiff(p.value, source.allParams()[k].value), p.name).toBe(0))
    expect(loaded.sources.get("encoder.layer.0.attention.self.query.weight")![0]).toMatch(/^onnx::MatMul_/)
    expect(loaded.sources.get("encoder.layer.0.output.dense.weight")).toEqual(["bert.encoder.layer.0.output.dense.weight"])
    const batch: TokenBatch = { ...padBatch([[2, 7, 9, 11, 3], [2, 8, 3]]), tokenTypeIds: Int32Array.of(0, 0, 0, 1, 1, 0, 0, 1, 0, 0) }
    const feeds = (b: TokenBatch) => ({ input_ids: i64(b.inputIds, [2, 5]), attention_mask: i64(b.attentionMask!, [2, 5]), token_type_ids: i64(b.tokenTypeIds!, [2, 5]) })
    expect(maxDiff(model.forward(batch).data, await run(bytes, feeds(batch), "last_hidden_state"))).toBeLessThan(1e-4)
    shake(model.allParams(), 2)
    expect(maxDiff(model.forward(batch).data, await run(exportOnnxModel(loaded), feeds(batch), "last_hidden_state"))).toBeLessThan(1e-4)
  })
})

const decoderConfig: DecoderConfig = {
  vocabSize: 40, hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 32, maxPositions: 20, layerNormEps: 1e-5, activation: "gelu_tanh"
}

describe("GPT-2 export layout (transformer. prefix, Conv1D names, fused c_attn Gemm, tied head)", () => {
  it("loads, matches onnxruntime's logits, exports the tied embeddings into both initializers", async () => {
    const source = new Gpt2Decoder(decoderConfig)
    shake(source.allParams(), 3)
    const bytes = decoderHfExport(source, "gpt2")
    const hf = { model_type: "gpt2", vocab_size: 40, n_embd: 16, n_layer: 2, n_head: 2, n_inner: null, n_positions: 20, layer_norm_epsilon: 1e-5, activation_function: "gelu_new" }
    expect(() => loadOnnxModelBytes(bytes, hf)).toThrow(/c_fc.* dims \[16, 32\], expected \[16, 64\]/) // n_inner null = 4·n_embd: shape mismatch named
    const loaded = loadOnnxModelBytes(bytes, { ...hf, n_inner: 32 }, "gpt2-hf.onnx")
    const model = loaded.model as Gpt2Decoder
    expect(model.lmHead).toBeUndefined()
    expect(loaded.sources.get("embed_tokens.weight")).toEqual(["transformer.wte.weight", "onnx::MatMul_999"])
    model.allParams().forEach((p, k) => expect(maxDiff(p.value, source.allParams()[k].value), p.name).toBe(0))
    const batch = padBatch([[3, 9, 1, 30, 7, 2], [5, 6, 7]])
    const feeds = () => ({ input_ids: i64(batch.inputIds, [2, 6]), attention_mask: i64(batch.attentionMask!, [2, 6]), position_ids: i64(model.positionsOf(batch), [2, 6]) })
    expect(maxDiff(model.logits(model.forward(batch)).data, await run(bytes, feeds(), "logits"))).toBeLessThan(1e-4)
    model.languageModelLoss(batch, {}, true)
    for (const p of model.params()) for (let i = 0; i < p.value.length; i++) p.value[i] -= 0.3 * p.grad[i]
    expect(maxDiff(model.logits(model.forward(batch)).data, await run(exportOnnxModel(loaded), feeds(), "logits"))).toBeLessThan(1e-4)
  })
})

describe("OPT export layout (model.decoder. prefix, anonymous linears, ReLU, positions offset by 2)", () => {
  it("loads and matches onnxruntime's logits on real tokens (left padding)", async () => {
    const cfg = { ...decoderConfig, activation: "relu" as const, maxPositions: 22, positionOffset: 2 }
    const source = new Gpt2Decoder(cfg)
    shake(source.allParams(), 4)
    const bytes = decoderHfExport(source, "opt")
    const hf = { model_type: "opt", vocab_size: 40, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, ffn_dim: 32, max_position_embeddings: 20, activation_function: "relu", do_layer_norm_before: true, word_embed_proj_dim: 16 }
    const model = loadOnnxModelBytes(bytes, hf, "opt-hf.onnx").model as Gpt2Decoder
    model.allParams().forEach((p, k) => expect(maxDiff(p.value, source.allParams()[k].value), p.name).toBe(0))
    const batch = padBatch([[3, 9, 1, 30, 7, 2], [5, 6, 7]], { side: "left", padId: 1 })
    const ours = model.logits(model.forward(batch)).data
    const theirs = await run(bytes, { input_ids: i64(batch.inputIds, [2, 6]), attention_mask: i64(batch.attentionMask!, [2, 6]) }, "logits")
    // padding rows differ by convention (HF gives them position 1, we give 2); real rows must agree
    expect(maxDiff(ours, theirs, (r) => batch.attentionMask![r] === 1, 40)).toBeLessThan(1e-4)
    expect(() => loadOnnxModelBytes(bytes, { ...hf, do_layer_norm_before: false })).toThrow(/post-LN, opt-350m/)
  })
})

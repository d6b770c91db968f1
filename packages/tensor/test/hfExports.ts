/**
 * ONNX graphs laid out as torch.onnx / optimum export Hugging Face models, built from a model's
 * parameters, to test the loader's name mapping without the hub:
 * - BERT under "bert.": query/key/value/intermediate weights as anonymous "onnx::MatMul_<n>" [in, out]
 *   initializers found through their node ("/bert/encoder/layer.0/attention/self/query/MatMul");
 *   the output denses named in torch's [out, in] layout behind a Transpose; the embeddings'
 *   LayerNorm decomposed into ReduceMean/Sub/Pow/Sqrt/Div (opset < 17 exports).
 * - GPT-2 under "transformer.": Conv1D weights named [in, out], the fused c_attn through Reshape +
 *   Gemm (Conv1D's addmm), a tied LM
 *   head as an anonymous [E, V] MatMul weight at "/lm_head/MatMul".
 * - OPT under "model.decoder.": every linear anonymous, ReLU, positions cumsum(mask)·mask − 1 + 2.
 */
import { GraphBuilder, type Value } from "@embedflow/onnx"
import { type BertEncoder, type Dense, type Gpt2Decoder, type LayerNorm } from "../src/index.js"

const F32_MIN = -3.4028234663852886e38
const transposed = (d: Dense): Float32Array => {
  const { inputDim: n, outputDim: m } = d
  const out = new Float32Array(n * m)
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[j * n + i] = d.weight.value[i * m + j]
  return out
}

class Export {
  readonly g = new GraphBuilder("hf_export")
  private anon = 100
  scalar = (v: number): Value => this.g.constant(new Float32Array([v]), { dims: [] })
  ints = (v: Array<number>): Value => this.g.constant(BigInt64Array.from(v.map(BigInt)), { dims: [v.length] })
  init = (name: string, data: Float32Array, dims: Array<number>): Value => this.g.initializer(name, data, dims)
  /** x·W + b with W an anonymous folded initializer at node <path>/MatMul */
  anonLinear(x: Value, d: Dense, nodePath: string, biasName: string): Value {
    const w = this.init(`onnx::MatMul_${this.anon++}`, d.weight.value.slice(), [d.inputDim, d.outputDim])
    const y = this.g.op("MatMul", [x, w], {}, { name: `${nodePath}/MatMul` })
    return this.g.op("Add", [this.init(biasName, d.bias!.value.slice(), [d.outputDim]), y], {}, { name: `${nodePath}/Add` })
  }
  /** x·W + b with W named [in, out] (GPT-2's Conv1D) */
  namedLinear(x: Value, d: Dense, name: string, nodePath: string): Value {
    const y = this.g.op("MatMul", [x, this.init(`${name}.weight`, d.weight.value.slice(), [d.inputDim, d.outputDim])], {}, { name: `${nodePath}/MatMul` })
    return this.g.op("Add", [y, this.init(`${name}.bias`, d.bias!.value.slice(), [d.outputDim])])
  }
  /** x·Wᵀ + b with W named in torch's [out, in] layout */
  namedTorchLinear(x: Value, d: Dense, name: string, nodePath: string): Value {
    const w = this.init(`${name}.weight`, transposed(d), [d.outputDim, d.inputDim])
    const y = this.g.op("MatMul", [x, this.g.op("Transpose", [w], { perm: [1, 0] }, { name: `${nodePath}/Transpose` })], {}, { name: `${nodePath}/MatMul` })
    return this.g.op("Add", [y, this.init(`${name}.bias`, d.bias!.value.slice(), [d.outputDim])])
  }
  layerNorm(x: Value, ln: LayerNorm, name: string, decomposed = false): Value {
    const gamma = this.init(`${name}.weight`, ln.weight.value.slice(), [ln.dim])
    const beta = this.init(`${name}.bias`, ln.bias.value.slice(), [ln.dim])
    if (!decomposed) return this.g.op("LayerNormalization", [x, gamma, beta], { axis: -1, epsilon: ln.eps })
    const g = this.g
    const centered = g.op("Sub", [x, g.op("ReduceMean", [x], { axes: [-1] })])
    const variance = g.op("ReduceMean", [g.op("Pow", [centered, this.scalar(2)])], { axes: [-1] })
    const normed = g.op("Div", [centered, g.op("Sqrt", [g.op("Add", [variance, this.scalar(ln.eps)])])])
    return g.op("Add", [g.op("Mul", [normed, gamma]), beta])
  }
  heads(x: Value, heads: number, d: number): Value {
    return this.g.op("Transpose", [this.g.op("Reshape", [x, this.ints([0, 0, heads, d])])], { perm: [0, 2, 1, 3] })
  }
  attention(q: Value, k: Value, v: Value, heads: number, hidden: number, mask: Value): Value {
    const g = this.g, d = hidden / heads
    const scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [this.heads(q, heads, d), g.op("Transpose", [this.heads(k, heads, d)], { perm: [0, 1, 3, 2] })]), this.scalar(1 / Math.sqrt(d))]), mask])
    const ctx = g.op("MatMul", [g.op("Softmax", [scores], { axis: -1 }), this.heads(v, heads, d)])
    return g.op("Reshape", [g.op("Transpose", [ctx], { perm: [0, 2, 1, 3] }), this.ints([0, 0, hidden])])
  }
  gelu(x: Value): Value {
    const g = this.g
    return g.op("Mul", [g.op("Mul", [x, this.scalar(0.5)]), g.op("Add", [g.op("Erf", [g.op("Mul", [x, this.scalar(Math.SQRT1_2)])]), this.scalar(1)])])
  }
  geluTanh(x: Value): Value {
    const g = this.g
    const inner = g.op("Mul", [g.op("Add", [x, g.op("Mul", [g.op("Mul", [g.op("Mul", [x, x]), x]), this.scalar(0.044715)])]), this.scalar(Math.sqrt(2 / Math.PI))])
    return g.op("Mul", [g.op("Mul", [x, this.scalar(0.5)]), g.op("Add", [g.op("Tanh", [inner]), this.scalar(1)])])
  }
  /** Additive [B, 1, S, S] mask: padding keys, and later keys when causal. */
  mask(attentionMask: Value, causal: boolean): Value {
    const g = this.g
    const keep = g.op("Unsqueeze", [g.op("Cast", [attentionMask], { to: 9 }), this.ints([1, 2])])
    let allowed = keep
    if (causal) {
      const S = g.op("Gather", [g.op("Shape", [attentionMask]), g.constant(BigInt64Array.of(1n), { dims: [] })], { axis: 0 })
      const r = g.op("Range", [g.constant(BigInt64Array.of(0n), { dims: [] }), S, g.constant(BigInt64Array.of(1n), { dims: [] })])
      allowed = g.op("And", [keep, g.op("LessOrEqual", [r, g.op("Unsqueeze", [r, this.ints([1])])])])
    }
    return g.op("Where", [allowed, this.scalar(0), this.scalar(F32_MIN)])
  }
}

export const bertHfExport = (m: BertEncoder): Uint8Array => {
  const e = new Export(), g = e.g, c = m.config, H = c.hiddenSize
  const ids = g.input("input_ids", "int64", ["batch_size", "sequence_length"])
  const am = g.input("attention_mask", "int64", ["batch_size", "sequence_length"])
  const tt = g.input("token_type_ids", "int64", ["batch_size", "sequence_length"])
  const S = g.op("Gather", [g.op("Shape", [ids]), g.constant(BigInt64Array.of(1n), { dims: [] })], { axis: 0 })
  const pos = g.op("Range", [g.constant(BigInt64Array.of(0n), { dims: [] }), S, g.constant(BigInt64Array.of(1n), { dims: [] })])
  const table = (emb: { weight: { value: Float32Array } }, name: string, rows: number) => e.init(`bert.embeddings.${name}.weight`, emb.weight.value.slice(), [rows, H])
  const emb = g.op("Add", [
    g.op("Add", [g.op("Gather", [table(m.wordEmbeddings, "word_embeddings", c.vocabSize), ids]), g.op("Gather", [table(m.tokenTypeEmbeddings, "token_type_embeddings", c.typeVocabSize), tt])]),
    g.op("Gather", [table(m.positionEmbeddings, "position_embeddings", c.maxPositions), pos])
  ])
  let h = e.layerNorm(emb, m.embeddingNorm, "bert.embeddings.LayerNorm", true)
  const mask = e.mask(am, false)
  m.layers.forEach((l, i) => {
    const p = `bert.encoder.layer.${i}`, n = `/bert/encoder/layer.${i}`
    const q = e.anonLinear(h, l.query, `${n}/attention/self/query`, `${p}.attention.self.query.bias`)
    const k = e.anonLinear(h, l.key, `${n}/attention/self/key`, `${p}.attention.self.key.bias`)
    const v = e.anonLinear(h, l.value, `${n}/attention/self/value`, `${p}.attention.self.value.bias`)
    const a = e.namedTorchLinear(e.attention(q, k, v, c.numHeads, H, mask), l.attentionOutput, `${p}.attention.output.dense`, `${n}/attention/output/dense`)
    h = e.layerNorm(g.op("Add", [a, h]), l.attentionNorm, `${p}.attention.output.LayerNorm`)
    const f = e.namedTorchLinear(e.gelu(e.anonLinear(h, l.intermediate, `${n}/intermediate/dense`, `${p}.intermediate.dense.bias`)), l.output, `${p}.output.dense`, `${n}/output/dense`)
    h = e.layerNorm(g.op("Add", [f, h]), l.outputNorm, `${p}.output.LayerNorm`)
  })
  g.output(h, { name: "last_hidden_state", shape: ["batch_size", "sequence_length", H] })
  return g.toModel({ opset: 17 })
}

/** GPT-2 (prefix "transformer.", tied head) or OPT (prefix "model.decoder.") exports of a decoder. */
export const decoderHfExport = (m: Gpt2Decoder, kind: "gpt2" | "opt"): Uint8Array => {
  const e = new Export(), g = e.g, c = m.config, H = c.hiddenSize
  const ids = g.input("input_ids", "int64", ["batch_size", "sequence_length"])
  const am = g.input("attention_mask", "int64", ["batch_size", "sequence_length"])
  const gpt2 = kind === "gpt2"
  const pre = gpt2 ? "transformer." : "model.decoder."
  const nodePre = gpt2 ? "/transformer" : "/model/decoder"
  let positions: Value
  if (gpt2) positions = g.input("position_ids", "int64", ["batch_size", "sequence_length"])
  else {
    const cum = g.op("CumSum", [am, g.constant(BigInt64Array.of(1n), { dims: [] })])
    positions = g.op("Add", [g.op("Sub", [g.op("Mul", [cum, am]), g.constant(BigInt64Array.of(1n), { dims: [] })]), g.constant(BigInt64Array.of(2n), { dims: [] })])
  }
  const wte = e.init(`${pre}${gpt2 ? "wte" : "embed_tokens"}.weight`, m.tokenEmbeddings.weight.value.slice(), [c.vocabSize, H])
  const wpe = e.init(`${pre}${gpt2 ? "wpe" : "embed_positions"}.weight`, m.positionEmbeddings.weight.value.slice(), [c.maxPositions, H])
  let h = g.op("Add", [g.op("Gather", [wte, ids]), g.op("Gather", [wpe, positions])])
  const mask = e.mask(am, true)
  m.layers.forEach((l, i) => {
    const p = gpt2 ? `${pre}h.${i}` : `${pre}layers.${i}`, n = gpt2 ? `${nodePre}/h.${i}` : `${nodePre}/layers.${i}`
    const a = e.layerNorm(h, l.attentionNorm, gpt2 ? `${p}.ln_1` : `${p}.self_attn_layer_norm`)
    let q: Value, k: Value, v: Value
    if (gpt2) {
      const w = new Float32Array(H * 3 * H), b = new Float32Array(3 * H)
      ;[l.query, l.key, l.value].forEach((d, j) => {
        for (let r = 0; r < H; r++) w.set(d.weight.value.subarray(r * H, (r + 1) * H), r * 3 * H + j * H)
        b.set(d.bias!.value, j * H)
      })
      const flat = g.op("Reshape", [a, e.ints([-1, H])])
      const qkv2 = g.op("Gemm", [flat, e.init(`${p}.attn.c_attn.weight`, w, [H, 3 * H]), e.init(`${p}.attn.c_attn.bias`, b, [3 * H])], {}, { name: `${n}/attn/c_attn/Gemm` })
      const shape3 = g.op("Concat", [g.op("Slice", [g.op("Shape", [a]), e.ints([0]), e.ints([2])]), e.ints([3 * H])], { axis: 0 })
      ;[q, k, v] = g.opMulti("Split", [g.op("Reshape", [qkv2, shape3]), e.ints([H, H, H])], 3, { axis: -1 })
    } else {
      q = e.anonLinear(a, l.query, `${n}/self_attn/q_proj`, `${p}.self_attn.q_proj.bias`)
      k = e.anonLinear(a, l.key, `${n}/self_attn/k_proj`, `${p}.self_attn.k_proj.bias`)
      v = e.anonLinear(a, l.value, `${n}/self_attn/v_proj`, `${p}.self_attn.v_proj.bias`)
    }
    const ctx = e.attention(q, k, v, c.numHeads, H, mask)
    const o = gpt2 ? e.namedLinear(ctx, l.attentionOutput, `${p}.attn.c_proj`, `${n}/attn/c_proj`) : e.anonLinear(ctx, l.attentionOutput, `${n}/self_attn/out_proj`, `${p}.self_attn.out_proj.bias`)
    h = g.op("Add", [h, o])
    const mm = e.layerNorm(h, l.feedForwardNorm, gpt2 ? `${p}.ln_2` : `${p}.final_layer_norm`)
    const up = gpt2 ? e.namedLinear(mm, l.fc1, `${p}.mlp.c_fc`, `${n}/mlp/c_fc`) : e.anonLinear(mm, l.fc1, `${n}/fc1`, `${p}.fc1.bias`)
    const act = gpt2 ? e.geluTanh(up) : g.op("Relu", [up])
    h = g.op("Add", [h, gpt2 ? e.namedLinear(act, l.fc2, `${p}.mlp.c_proj`, `${n}/mlp/c_proj`) : e.anonLinear(act, l.fc2, `${n}/fc2`, `${p}.fc2.bias`)])
  })
  const hidden = e.layerNorm(h, m.finalNorm, gpt2 ? `${pre}ln_f` : `${pre}final_layer_norm`)
  const E = m.tokenEmbeddings.weight.value, V = c.vocabSize
  const head = new Float32Array(H * V)
  for (let vI = 0; vI < V; vI++) for (let j = 0; j < H; j++) head[j * V + vI] = E[vI * H + j]
  const logits = g.op("MatMul", [hidden, e.init("onnx::MatMul_999", head, [H, V])], {}, { name: "/lm_head/MatMul" })
  g.output(logits, { name: "logits", shape: ["batch_size", "sequence_length", V] })
  g.output(hidden, { name: "last_hidden_state", shape: ["batch_size", "sequence_length", H] })
  return g.toModel({ opset: 17 })
}

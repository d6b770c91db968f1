/** Float64 reference forward passes of the tiny models, written independently of the ONNX graphs. */
import type { BertConfig, Gpt2Config, Weights } from "../src/index.js"

type Mat = Array<Float64Array> // rows

const w = (weights: Weights, name: string) => {
  const t = weights.get(name)
  if (!t) throw new Error(`missing ${name}`)
  return t
}

/** x [n, in] @ W [in, out] + b */
const dense = (x: Mat, weights: Weights, name: string): Mat => {
  const W = w(weights, `${name}.weight`)
  const b = w(weights, `${name}.bias`).data
  const [din, dout] = W.dims
  return x.map((row) => {
    const out = new Float64Array(dout)
    for (let o = 0; o < dout; o++) {
      let s = b[o]
      for (let i = 0; i < din; i++) s += row[i] * W.data[i * dout + o]
      out[o] = s
    }
    return out
  })
}

const layerNorm = (x: Mat, weights: Weights, name: string, eps: number): Mat => {
  const g = w(weights, `${name}.weight`).data
  const b = w(weights, `${name}.bias`).data
  return x.map((row) => {
    const n = row.length
    const mean = row.reduce((a, c) => a + c, 0) / n
    const variance = row.reduce((a, c) => a + (c - mean) ** 2, 0) / n
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * g[i] + b[i])
  })
}

const add = (a: Mat, b: Mat): Mat => a.map((row, i) => row.map((v, j) => v + b[i][j]))

/** erf in float64: Maclaurin series for |x| < 2.5, continued fraction for erfc beyond. */
export const erf = (x: number): number => {
  const ax = Math.abs(x)
  if (ax < 2.5) {
    let sum = 0
    let term = ax
    for (let n = 0; n < 100; n++) {
      sum += term / (2 * n + 1)
      term *= (-ax * ax) / (n + 1)
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum
  }
  let f = ax
  for (let n = 80; n >= 1; n--) f = ax + n / 2 / f
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * f))
}
const geluErf = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2))
const geluTanh = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))

/** Multi-head attention for one sequence: allowed(i, j) says whether query i may see key j. */
const attention = (q: Mat, k: Mat, v: Mat, heads: number, allowed: (i: number, j: number) => boolean): Mat => {
  const H = q[0].length
  const hd = H / heads
  const out = q.map(() => new Float64Array(H))
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < q.length; i++) {
      const scores = k.map((kr, j) => {
        if (!allowed(i, j)) return -Infinity
        let s = 0
        for (let d = 0; d < hd; d++) s += q[i][h * hd + d] * kr[h * hd + d]
        return s / Math.sqrt(hd)
      })
      let m = Math.max(...scores)
      // A fully masked row: the ONNX graph adds float32.min to every score, which softmaxes to uniform.
      const all = m === -Infinity
      if (all) m = 0
      const e = scores.map((s) => (all ? 1 : Math.exp(s - m)))
      const z = e.reduce((a, c) => a + c, 0)
      for (let j = 0; j < k.length; j++) for (let d = 0; d < hd; d++) out[i][h * hd + d] += (e[j] / z) * v[j][h * hd + d]
    }
  }
  return out
}

const embed = (table: { data: Float32Array; dims: ReadonlyArray<number> }, id: number): Float64Array =>
  Float64Array.from(table.data.subarray(id * table.dims[1], (id + 1) * table.dims[1]))

/** BERT last_hidden_state for one sequence. */
export const bertForward = (c: BertConfig, W: Weights, ids: number[], mask: number[], types: number[]): Mat => {
  let h: Mat = ids.map((id, p) => {
    const a = embed(w(W, "embeddings.word_embeddings.weight"), id)
    const b = embed(w(W, "embeddings.position_embeddings.weight"), p)
    const t = embed(w(W, "embeddings.token_type_embeddings.weight"), types[p])
    return a.map((v, i) => v + b[i] + t[i])
  })
  h = layerNorm(h, W, "embeddings.LayerNorm", c.layerNormEps)
  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}`
    const ctx = attention(dense(h, W, `${p}.attention.self.query`), dense(h, W, `${p}.attention.self.key`), dense(h, W, `${p}.attention.self.value`), c.numHeads, (_i, j) => mask[j] === 1)
    h = layerNorm(add(dense(ctx, W, `${p}.attention.output.dense`), h), W, `${p}.attention.output.LayerNorm`, c.layerNormEps)
    const ff = dense(dense(h, W, `${p}.intermediate.dense`).map((r) => r.map(geluErf)), W, `${p}.output.dense`)
    h = layerNorm(add(ff, h), W, `${p}.output.LayerNorm`, c.layerNormEps)
  }
  return h
}

/** BertForSequenceClassification logit from the [CLS] hidden state. */
export const bertClassify = (hidden: Mat, C: Weights): number => {
  const pooled = dense([hidden[0]], C, "bert.pooler.dense").map((r) => r.map(Math.tanh))
  return dense(pooled, C, "classifier")[0][0]
}

/** GPT-2 final hidden states (after ln_f, GPT2Model's last_hidden_state) of one unpadded sequence. */
export const gpt2Hidden = (c: Gpt2Config, W: Weights, ids: number[]): Mat => {
  let h: Mat = ids.map((id, p) => {
    const a = embed(w(W, "transformer.wte.weight"), id)
    const b = embed(w(W, "transformer.wpe.weight"), p)
    return a.map((v, i) => v + b[i])
  })
  const E = c.nEmbd
  for (let l = 0; l < c.nLayer; l++) {
    const p = `transformer.h.${l}`
    const qkv = dense(layerNorm(h, W, `${p}.ln_1`, c.layerNormEps), W, `${p}.attn.c_attn`)
    const ctx = attention(qkv.map((r) => r.slice(0, E)), qkv.map((r) => r.slice(E, 2 * E)), qkv.map((r) => r.slice(2 * E)), c.nHead, (i, j) => j <= i)
    h = add(h, dense(ctx, W, `${p}.attn.c_proj`))
    const ff = dense(dense(layerNorm(h, W, `${p}.ln_2`, c.layerNormEps), W, `${p}.mlp.c_fc`).map((r) => r.map(geluTanh)), W, `${p}.mlp.c_proj`)
    h = add(h, ff)
  }
  return layerNorm(h, W, "transformer.ln_f", c.layerNormEps)
}

/** GPT-2 logits for every position of one unpadded sequence (positions 0..n-1). */
export const gpt2Forward = (c: Gpt2Config, W: Weights, ids: number[]): Mat => {
  const E = c.nEmbd
  const head = w(W, "lm_head.weight")
  return gpt2Hidden(c, W, ids).map((row) => {
    const out = new Float64Array(c.vocabSize)
    for (let o = 0; o < c.vocabSize; o++) {
      let s = 0
      for (let i = 0; i < E; i++) s += row[i] * head.data[i * c.vocabSize + o]
      out[o] = s
    }
    return out
  })
}

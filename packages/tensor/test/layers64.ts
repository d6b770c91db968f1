/**
 * Float64 reference forwards of the transformer layers, written with plain loops independently of
 * src/nn (no shared kernels): the functions the finite-difference gradient checks differentiate.
 */
import { at, type M64, m64 } from "./reference.js"

/** erf by its Maclaurin series (exact to float64 rounding for |x| < 3, which the tests stay in). */
export const erf64 = (x: number): number => {
  let term = x, sum = x
  for (let n = 1; n < 100; n++) {
    term *= (-x * x) / n
    sum += term / (2 * n + 1)
    if (Math.abs(term) < 1e-18) break
  }
  return (2 / Math.sqrt(Math.PI)) * sum
}

export type Act = "gelu" | "gelu_tanh" | "relu" | "silu"
export const act64 = (kind: Act, x: number): number => {
  switch (kind) {
    case "gelu":
      return 0.5 * x * (1 + erf64(x / Math.SQRT2))
    case "gelu_tanh":
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))
    case "relu":
      return Math.max(0, x)
    case "silu":
      return x / (1 + Math.exp(-x))
  }
}

export const dense64 = (x: M64, w: ArrayLike<number>, b: ArrayLike<number> | undefined, outDim: number): M64 => {
  const y = m64(x.rows, outDim)
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < outDim; j++) {
    let s = b ? b[j] : 0
    for (let p = 0; p < x.cols; p++) s += at(x, i, p) * w[p * outDim + j]
    y.data[i * outDim + j] = s
  }
  return y
}

export const layerNorm64 = (x: M64, g: ArrayLike<number>, b: ArrayLike<number>, eps: number): M64 => {
  const y = m64(x.rows, x.cols)
  for (let i = 0; i < x.rows; i++) {
    let mean = 0
    for (let j = 0; j < x.cols; j++) mean += at(x, i, j) / x.cols
    let v = 0
    for (let j = 0; j < x.cols; j++) v += (at(x, i, j) - mean) ** 2 / x.cols
    for (let j = 0; j < x.cols; j++) y.data[i * x.cols + j] = ((at(x, i, j) - mean) / Math.sqrt(v + eps)) * g[j] + b[j]
  }
  return y
}

export const add64 = (a: M64, b: M64): M64 => m64(a.rows, a.cols, a.data.map((v, i) => v + b.data[i]))

/** Multi-head attention on [B·S, H] inputs; fully masked query rows attend uniformly. */
export const attention64 = (q: M64, k: M64, v: M64, B: number, S: number, heads: number, mask: Uint8Array | undefined, causal: boolean): M64 => {
  const H = q.cols, d = H / heads
  const out = m64(B * S, H)
  for (let b = 0; b < B; b++) for (let h = 0; h < heads; h++) for (let i = 0; i < S; i++) {
    const w: Array<number> = []
    for (let j = 0; j < S; j++) {
      const ok = (!causal || j <= i) && (!mask || mask[b * S + j] === 1)
      let s = 0
      for (let t = 0; t < d; t++) s += at(q, b * S + i, h * d + t) * at(k, b * S + j, h * d + t)
      w.push(ok ? s / Math.sqrt(d) : -Infinity)
    }
    const m = Math.max(...w)
    const e = m === -Infinity ? w.map(() => 1) : w.map((x) => Math.exp(x - m))
    const z = e.reduce((a, c) => a + c, 0)
    for (let t = 0; t < d; t++) {
      let s = 0
      for (let j = 0; j < S; j++) s += (e[j] / z) * at(v, b * S + j, h * d + t)
      out.data[(b * S + i) * H + h * d + t] = s
    }
  }
  return out
}

export const gather64 = (table: ArrayLike<number>, dim: number, ids: ArrayLike<number>): M64 => {
  const y = m64(ids.length, dim)
  for (let t = 0; t < ids.length; t++) for (let j = 0; j < dim; j++) y.data[t * dim + j] = table[ids[t] * dim + j]
  return y
}

export type Params64 = Map<string, Float64Array>

export interface Bert64Config {
  readonly hidden: number
  readonly heads: number
  readonly layers: number
  readonly ffn: number
  readonly eps: number
  readonly act: Act
}

export const bert64 = (p: Params64, c: Bert64Config, ids: Int32Array, types: Int32Array, mask: Uint8Array, B: number, S: number): M64 => {
  const H = c.hidden
  const P = (n: string) => {
    const v = p.get(n)
    if (!v) throw new Error(`bert64: missing ${n}`)
    return v
  }
  const positions = Int32Array.from({ length: B * S }, (_, t) => t % S)
  let e = add64(add64(gather64(P("embeddings.word_embeddings.weight"), H, ids), gather64(P("embeddings.position_embeddings.weight"), H, positions)), gather64(P("embeddings.token_type_embeddings.weight"), H, types))
  let h = layerNorm64(e, P("embeddings.LayerNorm.weight"), P("embeddings.LayerNorm.bias"), c.eps)
  for (let l = 0; l < c.layers; l++) {
    const n = `encoder.layer.${l}`
    const lin = (x: M64, name: string, out: number) => dense64(x, P(`${n}.${name}.weight`), P(`${n}.${name}.bias`), out)
    const ctx = attention64(lin(h, "attention.self.query", H), lin(h, "attention.self.key", H), lin(h, "attention.self.value", H), B, S, c.heads, mask, false)
    h = layerNorm64(add64(lin(ctx, "attention.output.dense", H), h), P(`${n}.attention.output.LayerNorm.weight`), P(`${n}.attention.output.LayerNorm.bias`), c.eps)
    const inter = lin(h, "intermediate.dense", c.ffn)
    const act = m64(inter.rows, inter.cols, inter.data.map((x) => act64(c.act, x)))
    h = layerNorm64(add64(lin(act, "output.dense", H), h), P(`${n}.output.LayerNorm.weight`), P(`${n}.output.LayerNorm.bias`), c.eps)
  }
  e = h
  return e
}

export const decoder64 = (p: Params64, c: Bert64Config, ids: Int32Array, positions: Int32Array, mask: Uint8Array, B: number, S: number): M64 => {
  const H = c.hidden
  const P = (n: string) => {
    const v = p.get(n)
    if (!v) throw new Error(`decoder64: missing ${n}`)
    return v
  }
  let h = add64(gather64(P("embed_tokens.weight"), H, ids), gather64(P("embed_positions.weight"), H, positions))
  for (let l = 0; l < c.layers; l++) {
    const n = `layers.${l}`
    const lin = (x: M64, name: string, out: number) => dense64(x, P(`${n}.${name}.weight`), P(`${n}.${name}.bias`), out)
    const a = layerNorm64(h, P(`${n}.self_attn_layer_norm.weight`), P(`${n}.self_attn_layer_norm.bias`), c.eps)
    const ctx = attention64(lin(a, "self_attn.q_proj", H), lin(a, "self_attn.k_proj", H), lin(a, "self_attn.v_proj", H), B, S, c.heads, mask, true)
    h = add64(h, lin(ctx, "self_attn.out_proj", H))
    const m = layerNorm64(h, P(`${n}.final_layer_norm.weight`), P(`${n}.final_layer_norm.bias`), c.eps)
    const inter = lin(m, "fc1", c.ffn)
    h = add64(h, lin(m64(inter.rows, inter.cols, inter.data.map((x) => act64(c.act, x))), "fc2", H))
  }
  return layerNorm64(h, P("final_layer_norm.weight"), P("final_layer_norm.bias"), c.eps)
}

/** Mean next-token cross-entropy with logits = hidden · Eᵀ (tied head). */
export const lmLoss64 = (hidden: M64, table: ArrayLike<number>, vocab: number, ids: Int32Array, mask: Uint8Array, B: number, S: number, targetMask?: Uint8Array): number => {
  const H = hidden.cols
  let loss = 0, count = 0
  for (let b = 0; b < B; b++) for (let s = 0; s + 1 < S; s++) {
    const t = b * S + s
    if (!mask[t] || !mask[t + 1]) continue
    if (targetMask && !targetMask[t + 1]) continue
    const logits: Array<number> = []
    for (let v = 0; v < vocab; v++) {
      let z = 0
      for (let j = 0; j < H; j++) z += at(hidden, t, j) * table[v * H + j]
      logits.push(z)
    }
    const m = Math.max(...logits)
    loss += m + Math.log(logits.reduce((a, z) => a + Math.exp(z - m), 0)) - logits[ids[t + 1]]
    count++
  }
  return loss / count
}

/** Σ w ⊙ y: a scalar whose gradient with respect to y is w. */
export const dot64 = (w: ArrayLike<number>, y: M64): number => {
  let s = 0
  for (let i = 0; i < y.data.length; i++) s += w[i] * y.data[i]
  return s
}

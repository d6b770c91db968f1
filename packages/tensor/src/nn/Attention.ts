/**
 * Multi-head scaled-dot-product attention over padded batches:
 *   P = softmax(Q·Kᵀ/√d + mask) per (sequence, head),  context = dropout(P)·V
 * Q, K, V and the context are [batch·seq, heads·d] (row b·S + s); the padding mask hides keys
 * whose attention-mask entry is 0, the causal mask hides keys after the query. A query row with no
 * visible key attends uniformly to every key, as the additive float32-min masks of the Hugging Face
 * ONNX exports do, and passes no gradient to its scores.
 *
 * Every product runs through matmul / matmulABt / matmulAtB on per-head views of head-major copies,
 * so the batched work goes to whatever backend those dispatch to.
 * Backward (S = scaled scores): dV = Pᵀ·dC, dP = dC·Vᵀ, dS = P ⊙ (dP − Σ_j dP⊙P), dQ = dS·K/√d,
 * dK = dSᵀ·Q/√d. Keeps the head-major Q, K, V and P.
 */
import { type Matrix, matrix } from "../Matrix.js"
import { matmul, matmulABt, matmulAtB } from "../Matmul.js"
import { type ForwardContext, missingCache } from "./Module.js"

export interface AttentionShape {
  readonly batch: number
  readonly seqLen: number
}

export interface AttentionMasks {
  /** batch·seq bytes, 1 = real token; keys with 0 are hidden. undefined = no padding. */
  readonly padding?: Uint8Array | undefined
  readonly causal: boolean
}

interface Cache {
  readonly q: Float32Array
  readonly k: Float32Array
  readonly v: Float32Array
  readonly p: Float32Array
  readonly dropKeep: Uint8Array | undefined
  readonly shape: AttentionShape
  readonly masks: AttentionMasks
}

/** [B·S, nh·d] -> [B, nh, S, d] (or back with toHeads = false). */
const permuteHeads = (src: Float32Array, dst: Float32Array, batch: number, seq: number, heads: number, d: number, toHeads: boolean): void => {
  const width = heads * d
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < seq; s++) {
      const row = (b * seq + s) * width
      for (let h = 0; h < heads; h++) {
        const headRow = ((b * heads + h) * seq + s) * d
        if (toHeads) dst.set(src.subarray(row + h * d, row + h * d + d), headRow)
        else dst.set(src.subarray(headRow, headRow + d), row + h * d)
      }
    }
  }
}

export class MultiHeadAttention {
  readonly headDim: number
  private cache: Cache | undefined

  constructor(readonly name: string, readonly hidden: number, readonly heads: number, readonly dropout = 0) {
    if (!(Number.isInteger(heads) && heads > 0 && hidden % heads === 0)) {
      throw new RangeError(`${name}: hidden size ${hidden} is not divisible by ${heads} heads`)
    }
    if (!(dropout >= 0 && dropout < 1)) throw new RangeError(`${name}: attention dropout must be in [0, 1), got ${dropout}`)
    this.headDim = hidden / heads
  }

  private visible(masks: AttentionMasks, seq: number, b: number, i: number, j: number): boolean {
    return (!masks.causal || j <= i) && (masks.padding === undefined || masks.padding[b * seq + j] !== 0)
  }

  forward(q: Matrix, k: Matrix, v: Matrix, shape: AttentionShape, masks: AttentionMasks, ctx: ForwardContext = {}): Matrix {
    const { batch: B, seqLen: S } = shape
    const nh = this.heads, d = this.headDim, H = this.hidden
    for (const [m, what] of [[q, "query"], [k, "key"], [v, "value"]] as const) {
      if (m.rows !== B * S || m.cols !== H) throw new RangeError(`${this.name}: ${what} is ${m.rows} x ${m.cols}, expected ${B * S} x ${H}`)
    }
    if (masks.padding !== undefined && masks.padding.length !== B * S) {
      throw new RangeError(`${this.name}: padding mask has ${masks.padding.length} entries, expected ${B * S}`)
    }
    const qh = new Float32Array(B * S * H), kh = new Float32Array(B * S * H), vh = new Float32Array(B * S * H)
    permuteHeads(q.data, qh, B, S, nh, d, true)
    permuteHeads(k.data, kh, B, S, nh, d, true)
    permuteHeads(v.data, vh, B, S, nh, d, true)
    const p = new Float32Array(B * nh * S * S)
    const contextHeads = new Float32Array(B * S * H)
    const drop = !!ctx.train && this.dropout > 0
    if (drop && ctx.rng === undefined) throw new Error(`${this.name}: attention dropout in training needs ctx.rng`)
    const dropKeep = drop ? new Uint8Array(p.length) : undefined
    const keepScale = 1 / (1 - this.dropout)
    const scale = 1 / Math.sqrt(d)
    const probsUsed = drop ? new Float32Array(S * S) : undefined
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < nh; h++) {
        const bh = b * nh + h
        const view = (buf: Float32Array): Matrix => ({ rows: S, cols: d, data: buf.subarray(bh * S * d, (bh + 1) * S * d) })
        const scores: Matrix = { rows: S, cols: S, data: p.subarray(bh * S * S, (bh + 1) * S * S) }
        matmulABt(view(qh), view(kh), { out: scores, alpha: scale })
        const sd = scores.data
        for (let i = 0; i < S; i++) {
          const o = i * S
          let max = -Infinity
          for (let j = 0; j < S; j++) if (this.visible(masks, S, b, i, j) && sd[o + j] > max) max = sd[o + j]
          if (max === -Infinity) {
            for (let j = 0; j < S; j++) sd[o + j] = 1 / S
            continue
          }
          let sum = 0
          for (let j = 0; j < S; j++) {
            const e = this.visible(masks, S, b, i, j) ? Math.exp(sd[o + j] - max) : 0
            sd[o + j] = e
            sum += e
          }
          const inv = 1 / sum
          for (let j = 0; j < S; j++) sd[o + j] *= inv
        }
        let probs: Matrix = scores
        if (probsUsed !== undefined && dropKeep !== undefined) {
          const base = bh * S * S
          for (let t = 0; t < S * S; t++) {
            const kept = ctx.rng!.next() >= this.dropout
            dropKeep[base + t] = kept ? 1 : 0
            probsUsed[t] = kept ? sd[t] * keepScale : 0
          }
          probs = { rows: S, cols: S, data: probsUsed }
        }
        matmul(probs, view(vh), { out: view(contextHeads) })
      }
    }
    const out = matrix(B * S, H)
    permuteHeads(contextHeads, out.data, B, S, nh, d, false)
    if (ctx.keep) this.cache = { q: qh, k: kh, v: vh, p, dropKeep, shape, masks }
    return out
  }

  backward(dContext: Matrix): { readonly dQ: Matrix; readonly dK: Matrix; readonly dV: Matrix } {
    const c = this.cache
    if (c === undefined) throw missingCache(this.name)
    this.cache = undefined
    const { batch: B, seqLen: S } = c.shape
    const nh = this.heads, d = this.headDim, H = this.hidden
    const dch = new Float32Array(B * S * H)
    permuteHeads(dContext.data, dch, B, S, nh, d, true)
    const dqh = new Float32Array(B * S * H), dkh = new Float32Array(B * S * H), dvh = new Float32Array(B * S * H)
    const scale = 1 / Math.sqrt(d)
    const keepScale = 1 / (1 - this.dropout)
    const dP: Matrix = matrix(S, S)
    const pUsed: Matrix | undefined = c.dropKeep ? matrix(S, S) : undefined
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < nh; h++) {
        const bh = b * nh + h
        const view = (buf: Float32Array): Matrix => ({ rows: S, cols: d, data: buf.subarray(bh * S * d, (bh + 1) * S * d) })
        const probs: Matrix = { rows: S, cols: S, data: c.p.subarray(bh * S * S, (bh + 1) * S * S) }
        let used = probs
        if (pUsed !== undefined && c.dropKeep !== undefined) {
          const base = bh * S * S
          for (let t = 0; t < S * S; t++) pUsed.data[t] = c.dropKeep[base + t] ? probs.data[t] * keepScale : 0
          used = pUsed
        }
        matmulAtB(used, view(dch), { out: view(dvh) })
        matmulABt(view(dch), view(c.v), { out: dP })
        const pd = probs.data, g = dP.data
        for (let i = 0; i < S; i++) {
          const o = i * S
          let anyVisible = false
          for (let j = 0; j < S && !anyVisible; j++) anyVisible = this.visible(c.masks, S, b, i, j)
          if (!anyVisible) {
            g.fill(0, o, o + S)
            continue
          }
          if (c.dropKeep !== undefined) {
            const base = bh * S * S + o
            for (let j = 0; j < S; j++) g[o + j] = c.dropKeep[base + j] ? g[o + j] * keepScale : 0
          }
          let dot = 0
          for (let j = 0; j < S; j++) dot += g[o + j] * pd[o + j]
          for (let j = 0; j < S; j++) g[o + j] = pd[o + j] * (g[o + j] - dot)
        }
        matmul(dP, view(c.k), { out: view(dqh), alpha: scale })
        matmulAtB(dP, view(c.q), { out: view(dkh), alpha: scale })
      }
    }
    const dQ = matrix(B * S, H), dK = matrix(B * S, H), dV = matrix(B * S, H)
    permuteHeads(dqh, dQ.data, B, S, nh, d, false)
    permuteHeads(dkh, dK.data, B, S, nh, d, false)
    permuteHeads(dvh, dV.data, B, S, nh, d, false)
    return { dQ, dK, dV }
  }
}

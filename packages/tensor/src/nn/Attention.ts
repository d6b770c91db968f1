/**
 * Multi-head scaled-dot-product attention over padded batches:
 *   P = softmax(Q·Kᵀ/√d + mask) per (sequence, head),  context = dropout(P)·V
 * Q, K, V and the context are [batch·seq, heads·d] (row b·S + s); the padding mask hides keys
 * whose attention-mask entry is 0, the causal mask hides keys after the query. A query row with no
 * visible key attends uniformly to every key, as the additive float32-min masks of the Hugging Face
 * ONNX exports do, and passes no gradient to its scores.
 *
 * The products of one sequence's heads run as one strided-batched sgemm straight on the
 * [batch·seq, heads·d] layout (head h is the column block h·d, so no head-major copies), on whichever
 * backend is selected.
 * Backward (S = scaled scores): dV = Pᵀ·dC, dP = dC·Vᵀ, dS = P ⊙ (dP − Σ_j dP⊙P), dQ = dS·K/√d,
 * dK = dSᵀ·Q/√d. Keeps Q, K, V (the caller's matrices, not copied) and P.
 */
import { getBackend } from "../Backend.js"
import { type Matrix, matrix } from "../Matrix.js"
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

/**
 * Per sequence: the heads' products C_h = alpha·op(A_h)·op(B_h), h < heads, one strided-batched sgemm.
 * An operand is either the [S, H] block of one sequence (head h = columns h·d.., leading dim H) or
 * a [heads, S, S] score block (head h at h·S·S, leading dim S).
 */
interface HeadOperand {
  readonly data: Float32Array
  readonly offset: number
  readonly ld: number
  readonly stride: number
}

const headProducts = (
  heads: number, transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: HeadOperand, b: HeadOperand, c: HeadOperand
): void =>
  getBackend().sgemmStridedBatched({
    transA, transB, m, n, k, alpha,
    a: a.data, aOffset: a.offset, lda: a.ld, strideA: a.stride,
    b: b.data, bOffset: b.offset, ldb: b.ld, strideB: b.stride,
    beta: 0, c: c.data, cOffset: c.offset, ldc: c.ld, strideC: c.stride, batch: heads
  })

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

  forward(q: Matrix, k: Matrix, v: Matrix, shape: AttentionShape, masks: AttentionMasks, ctx: ForwardContext = {}): Matrix {
    const { batch: B, seqLen: S } = shape
    const nh = this.heads, d = this.headDim, H = this.hidden
    for (const [m, what] of [[q, "query"], [k, "key"], [v, "value"]] as const) {
      if (m.rows !== B * S || m.cols !== H) throw new RangeError(`${this.name}: ${what} is ${m.rows} x ${m.cols}, expected ${B * S} x ${H}`)
    }
    if (masks.padding !== undefined && masks.padding.length !== B * S) {
      throw new RangeError(`${this.name}: padding mask has ${masks.padding.length} entries, expected ${B * S}`)
    }
    const p = new Float32Array(B * nh * S * S)
    const out = matrix(B * S, H)
    const drop = !!ctx.train && this.dropout > 0
    if (drop && ctx.rng === undefined) throw new Error(`${this.name}: attention dropout in training needs ctx.rng`)
    const dropKeep = drop ? new Uint8Array(p.length) : undefined
    const keepScale = 1 / (1 - this.dropout)
    const scale = 1 / Math.sqrt(d)
    const probsUsed = drop ? new Float32Array(nh * S * S) : undefined
    const block = nh * S * S
    const seqOf = (data: Float32Array, b: number): HeadOperand => ({ data, offset: b * S * H, ld: H, stride: d })
    for (let b = 0; b < B; b++) {
      const scores: HeadOperand = { data: p, offset: b * block, ld: S, stride: S * S }
      headProducts(nh, false, true, S, S, d, scale, seqOf(q.data, b), seqOf(k.data, b), scores)
      const visibleKey = this.visibleKeys(masks, S, b)
      const sd = p
      for (let r = 0; r < nh * S; r++) {
        const o = b * block + r * S, i = r % S
        const last = masks.causal ? Math.min(i, S - 1) : S - 1 // keys after `last` are hidden
        let max = -Infinity
        for (let j = 0; j <= last; j++) if (visibleKey[j] && sd[o + j] > max) max = sd[o + j]
        if (max === -Infinity) {
          for (let j = 0; j < S; j++) sd[o + j] = 1 / S
          continue
        }
        let sum = 0
        for (let j = 0; j < S; j++) {
          const e = j <= last && visibleKey[j] ? Math.exp(sd[o + j] - max) : 0
          sd[o + j] = e
          sum += e
        }
        const inv = 1 / sum
        for (let j = 0; j < S; j++) sd[o + j] *= inv
      }
      let probs = scores
      if (probsUsed !== undefined && dropKeep !== undefined) {
        const state = ctx.rng!.getState()
        getBackend().dropout(block, this.dropout, keepScale, state, sd, b * block, probsUsed, 0, dropKeep, b * block) // draws as rng.next() would
        ctx.rng!.setState(state)
        probs = { data: probsUsed, offset: 0, ld: S, stride: S * S }
      }
      headProducts(nh, false, false, S, d, S, 1, probs, seqOf(v.data, b), seqOf(out.data, b))
    }
    if (ctx.keep) this.cache = { q: q.data, k: k.data, v: v.data, p, dropKeep, shape, masks }
    return out
  }

  /** Sequence b's key visibility under the padding mask (1 = visible). */
  private visibleKeys(masks: AttentionMasks, seq: number, b: number): Uint8Array {
    return masks.padding === undefined ? new Uint8Array(seq).fill(1) : masks.padding.subarray(b * seq, (b + 1) * seq)
  }

  backward(dContext: Matrix): { readonly dQ: Matrix; readonly dK: Matrix; readonly dV: Matrix } {
    const c = this.cache
    if (c === undefined) throw missingCache(this.name)
    this.cache = undefined
    const { batch: B, seqLen: S } = c.shape
    const nh = this.heads, d = this.headDim, H = this.hidden
    const dQ = matrix(B * S, H), dK = matrix(B * S, H), dV = matrix(B * S, H)
    const scale = 1 / Math.sqrt(d)
    const keepScale = 1 / (1 - this.dropout)
    const block = nh * S * S
    const dP = new Float32Array(block)
    const pUsed = c.dropKeep ? new Float32Array(block) : undefined
    const seqOf = (data: Float32Array, b: number): HeadOperand => ({ data, offset: b * S * H, ld: H, stride: d })
    const dPs: HeadOperand = { data: dP, offset: 0, ld: S, stride: S * S }
    for (let b = 0; b < B; b++) {
      const base = b * block
      let used: HeadOperand = { data: c.p, offset: base, ld: S, stride: S * S }
      if (pUsed !== undefined && c.dropKeep !== undefined) {
        for (let t = 0; t < block; t++) pUsed[t] = c.dropKeep[base + t] ? c.p[base + t] * keepScale : 0
        used = { data: pUsed, offset: 0, ld: S, stride: S * S }
      }
      headProducts(nh, true, false, S, d, S, 1, used, seqOf(dContext.data, b), seqOf(dV.data, b))
      headProducts(nh, false, true, S, S, d, 1, seqOf(dContext.data, b), seqOf(c.v, b), dPs)
      const visibleKey = this.visibleKeys(c.masks, S, b)
      const pd = c.p, g = dP
      for (let r = 0; r < nh * S; r++) {
        const o = r * S, i = r % S
        const last = c.masks.causal ? Math.min(i, S - 1) : S - 1
        let anyVisible = false
        for (let j = 0; j <= last && !anyVisible; j++) anyVisible = visibleKey[j] !== 0
        if (!anyVisible) {
          g.fill(0, o, o + S)
          continue
        }
        if (c.dropKeep !== undefined) {
          const keep = c.dropKeep
          for (let j = 0; j < S; j++) g[o + j] = keep[base + o + j] ? g[o + j] * keepScale : 0
        }
        let dot = 0
        for (let j = 0; j < S; j++) dot += g[o + j] * pd[base + o + j]
        for (let j = 0; j < S; j++) g[o + j] = pd[base + o + j] * (g[o + j] - dot)
      }
      headProducts(nh, false, false, S, d, S, scale, dPs, seqOf(c.k, b), seqOf(dQ.data, b))
      headProducts(nh, true, false, S, d, S, scale, dPs, seqOf(c.q, b), seqOf(dK.data, b))
    }
    return { dQ, dK, dV }
  }
}

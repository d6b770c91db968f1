/**
 * Sentence pooling of token states [batch·seq, H] into [batch, H]:
 * - "mean": average over tokens whose attention-mask entry is 1 (sentence-transformers' mean)
 * - "cls":  the first token ([CLS])
 * - "last": the last token whose mask entry is 1 (decoder / PromptEOL pooling; works with left
 *           or right padding)
 * Backward spreads dY back to the pooled tokens (1/count each for mean). Stateless apart from the
 * token weights of the last kept forward, which are tiny.
 */
import { type Matrix, matrix } from "../Matrix.js"
import { type AttentionShape } from "./Attention.js"
import { type ForwardContext, missingCache } from "./Module.js"

export type PoolingKind = "mean" | "cls" | "last"

export class Pooling {
  private weights: Array<Array<[number, number]>> | undefined
  private shape: AttentionShape | undefined

  constructor(readonly kind: PoolingKind) {
    if (!["mean", "cls", "last"].includes(kind)) throw new RangeError(`Pooling: unknown kind "${String(kind)}" (mean, cls, last)`)
  }

  /** Per sequence, the (token row, weight) pairs the pooled vector sums. */
  private tokenWeights(shape: AttentionShape, mask: Uint8Array | undefined): Array<Array<[number, number]>> {
    const { batch: B, seqLen: S } = shape
    const real = (b: number, s: number) => mask === undefined || mask[b * S + s] !== 0
    return Array.from({ length: B }, (_, b) => {
      if (this.kind === "cls") return [[b * S, 1]]
      if (this.kind === "last") {
        let last = S - 1
        while (last > 0 && !real(b, last)) last--
        return [[b * S + last, 1]]
      }
      const rows: Array<number> = []
      for (let s = 0; s < S; s++) if (real(b, s)) rows.push(b * S + s)
      const w = 1 / Math.max(rows.length, 1e-9)
      return rows.map((r) => [r, w] as [number, number])
    })
  }

  forward(hidden: Matrix, shape: AttentionShape, mask: Uint8Array | undefined, ctx: ForwardContext = {}): Matrix {
    if (hidden.rows !== shape.batch * shape.seqLen) {
      throw new RangeError(`Pooling: ${hidden.rows} token rows for batch ${shape.batch} x ${shape.seqLen}`)
    }
    const H = hidden.cols
    const weights = this.tokenWeights(shape, mask)
    const y = matrix(shape.batch, H)
    weights.forEach((pairs, b) => {
      for (const [r, w] of pairs) for (let j = 0; j < H; j++) y.data[b * H + j] += w * hidden.data[r * H + j]
    })
    if (ctx.keep) {
      this.weights = weights
      this.shape = shape
    }
    return y
  }

  backward(dY: Matrix): Matrix {
    const weights = this.weights, shape = this.shape
    if (weights === undefined || shape === undefined) throw missingCache(`Pooling(${this.kind})`)
    this.weights = this.shape = undefined
    const H = dY.cols
    const dH = matrix(shape.batch * shape.seqLen, H)
    weights.forEach((pairs, b) => {
      for (const [r, w] of pairs) for (let j = 0; j < H; j++) dH.data[r * H + j] += w * dY.data[b * H + j]
    })
    return dH
  }
}

/**
 * Inverted dropout: in training each element is zeroed with probability p and the survivors are
 * scaled by 1/(1−p); in eval (or p = 0) it is the identity. Masks come from the context's seeded
 * Rng, so a replayed Rng state (GradCache's second pass) reproduces them exactly.
 */
import { getBackend } from "../Backend.js"
import { type Matrix, matrix } from "../Matrix.js"
import { type ForwardContext, missingCache } from "./Module.js"

export class Dropout {
  private mask: Uint8Array | undefined
  /** Whether the last kept forward dropped anything (else backward is the identity). */
  private active = false

  constructor(readonly p: number) {
    if (!(p >= 0 && p < 1)) throw new RangeError(`Dropout: p must be in [0, 1), got ${p}`)
  }

  forward(x: Matrix, ctx: ForwardContext = {}): Matrix {
    const active = !!ctx.train && this.p > 0
    if (ctx.keep) this.active = active
    if (!active) return x
    const rng = ctx.rng
    if (rng === undefined) throw new Error("Dropout: training mode needs ctx.rng (a seeded Rng)")
    const keep = new Uint8Array(x.data.length)
    const y = matrix(x.rows, x.cols)
    const state = rng.getState()
    getBackend().dropout(keep.length, this.p, 1 / (1 - this.p), state, x.data, 0, y.data, 0, keep, 0) // draws as rng.next() would
    rng.setState(state)
    if (ctx.keep) this.mask = keep
    return y
  }

  backward(dY: Matrix): Matrix {
    if (!this.active) return dY
    const keep = this.mask
    if (keep === undefined) throw missingCache("Dropout")
    this.mask = undefined
    this.active = false
    const dX = matrix(dY.rows, dY.cols)
    const scale = 1 / (1 - this.p)
    for (let i = 0; i < keep.length; i++) if (keep[i]) dX.data[i] = dY.data[i] * scale
    return dX
  }
}

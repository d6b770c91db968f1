/**
 * Embedding table lookup y[t] = E[id_t]. Backward scatters dY rows into E's gradient (a sparse
 * update: only the looked-up rows are touched, repeated ids accumulate).
 */
import { type Parameter } from "../Head.js"
import { type Matrix, matrix } from "../Matrix.js"
import { type Module, parameter } from "./Module.js"

export class Embedding implements Module {
  readonly weight: Parameter
  frozen = false

  constructor(name: string, readonly count: number, readonly dim: number) {
    this.weight = parameter(`${name}.weight`, [count, dim], true)
  }

  params(): Array<Parameter> {
    return this.frozen ? [] : [this.weight]
  }

  private check(ids: ArrayLike<number>): void {
    for (let t = 0; t < ids.length; t++) {
      const id = ids[t]
      if (!(Number.isInteger(id) && id >= 0 && id < this.count)) {
        throw new RangeError(`${this.weight.name}: index ${id} at position ${t} is outside 0..${this.count - 1}`)
      }
    }
  }

  /** Rows of the table for `ids`; with `out` the rows are added into it (embedding sums). */
  forward(ids: ArrayLike<number>, out?: Matrix): Matrix {
    this.check(ids)
    const d = this.dim
    const y = out ?? matrix(ids.length, d)
    if (y.rows !== ids.length || y.cols !== d) throw new RangeError(`${this.weight.name}: out is ${y.rows} x ${y.cols}, expected ${ids.length} x ${d}`)
    const w = this.weight.value
    for (let t = 0; t < ids.length; t++) {
      const src = ids[t] * d, dst = t * d
      if (out === undefined) y.data.set(w.subarray(src, src + d), dst)
      else for (let j = 0; j < d; j++) y.data[dst + j] += w[src + j]
    }
    return y
  }

  /** E.grad[id_t] += dY[t]. */
  backward(ids: ArrayLike<number>, dY: Matrix): void {
    if (this.frozen) return
    const d = this.dim, g = this.weight.grad
    for (let t = 0; t < ids.length; t++) {
      const dst = ids[t] * d, src = t * d
      for (let j = 0; j < d; j++) g[dst + j] += dY.data[src + j]
    }
  }
}

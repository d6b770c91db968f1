/**
 * LayerNorm over each row: y = γ ⊙ (x − μ)/σ + β with σ = √(var + ε) (biased variance, as torch).
 * Backward with x̂ = (x − μ)/σ and g = γ ⊙ dY:  dx = (g − mean(g) − x̂·mean(g ⊙ x̂)) / σ,
 * dγ += Σ_rows dY ⊙ x̂, dβ += Σ_rows dY. Keeps x̂ and 1/σ (rows x cols + rows floats).
 */
import { type Parameter } from "../Head.js"
import { type Matrix, matrix } from "../Matrix.js"
import { type ForwardContext, missingCache, type Module, parameter } from "./Module.js"

export class LayerNorm implements Module {
  readonly weight: Parameter
  readonly bias: Parameter
  frozen = false
  private cache: { xhat: Matrix; rstd: Float64Array } | undefined

  constructor(readonly name: string, readonly dim: number, readonly eps: number) {
    this.weight = parameter(`${name}.weight`, [dim], false, new Float32Array(dim).fill(1))
    this.bias = parameter(`${name}.bias`, [dim], false)
  }

  params(): Array<Parameter> {
    return this.frozen ? [] : [this.weight, this.bias]
  }

  forward(x: Matrix, ctx: ForwardContext = {}): Matrix {
    const n = this.dim
    if (x.cols !== n) throw new RangeError(`${this.name}: input has ${x.cols} columns, expected ${n}`)
    const y = matrix(x.rows, n)
    const xhat = ctx.keep ? matrix(x.rows, n) : undefined
    const rstd = new Float64Array(x.rows)
    const g = this.weight.value, b = this.bias.value
    for (let i = 0; i < x.rows; i++) {
      const o = i * n
      let mean = 0
      for (let j = 0; j < n; j++) mean += x.data[o + j]
      mean /= n
      let v = 0
      for (let j = 0; j < n; j++) {
        const d = x.data[o + j] - mean
        v += d * d
      }
      const r = 1 / Math.sqrt(v / n + this.eps)
      rstd[i] = r
      for (let j = 0; j < n; j++) {
        const h = (x.data[o + j] - mean) * r
        if (xhat) xhat.data[o + j] = h
        y.data[o + j] = h * g[j] + b[j]
      }
    }
    if (xhat) this.cache = { xhat, rstd }
    return y
  }

  backward(dY: Matrix): Matrix {
    const c = this.cache
    if (c === undefined) throw missingCache(this.name)
    this.cache = undefined
    const n = this.dim
    const { xhat, rstd } = c
    const gamma = this.weight.value, dg = this.weight.grad, db = this.bias.grad
    const dX = matrix(dY.rows, n)
    for (let i = 0; i < dY.rows; i++) {
      const o = i * n
      let sumG = 0, sumGx = 0
      for (let j = 0; j < n; j++) {
        const dy = dY.data[o + j], h = xhat.data[o + j]
        const gj = dy * gamma[j]
        sumG += gj
        sumGx += gj * h
        if (!this.frozen) {
          dg[j] += dy * h
          db[j] += dy
        }
      }
      const mG = sumG / n, mGx = sumGx / n, r = rstd[i]
      for (let j = 0; j < n; j++) dX.data[o + j] = (dY.data[o + j] * gamma[j] - mG - xhat.data[o + j] * mGx) * r
    }
    return dX
  }
}

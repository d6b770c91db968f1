/**
 * LayerNorm over each row: y = γ ⊙ (x − μ)/σ + β with σ = √(var + ε) (biased variance, as torch).
 * Backward with x̂ = (x − μ)/σ and g = γ ⊙ dY:  dx = (g − mean(g) − x̂·mean(g ⊙ x̂)) / σ,
 * dγ += Σ_rows dY ⊙ x̂, dβ += Σ_rows dY. Keeps x̂ and 1/σ (rows x cols + rows floats).
 */
import { type Parameter } from "../Head.js"
import { getBackend } from "../Backend.js"
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
    getBackend().layerNorm(x.rows, n, x.data, this.weight.value, this.bias.value, this.eps, y.data, xhat?.data, rstd)
    if (xhat) this.cache = { xhat, rstd }
    return y
  }

  backward(dY: Matrix): Matrix {
    const c = this.cache
    if (c === undefined) throw missingCache(this.name)
    this.cache = undefined
    const n = this.dim
    const { xhat, rstd } = c
    const dX = matrix(dY.rows, n)
    const grads = this.frozen ? undefined : this
    getBackend().layerNormBackward(dY.rows, n, dY.data, xhat.data, rstd, this.weight.value, dX.data, grads?.weight.grad, grads?.bias.grad)
    return dX
  }
}

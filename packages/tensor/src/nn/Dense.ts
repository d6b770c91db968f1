/**
 * A transformer's affine projection y = x·W + b (W stored [in, out], the ONNX MatMul layout), with
 * an optional low-rank adapter (see Lora.ts) added to its output.
 * Backward: dW += xᵀ·dY, db += Σ_rows dY, dX = dY·Wᵀ. A frozen Dense (LoRA training) skips dW, db.
 */
import { type Parameter } from "../Head.js"
import { type Matrix } from "../Matrix.js"
import { matmul, matmulABt, matmulAtB } from "../Matmul.js"
import { accumulateColumnSums, addRowVector } from "../internal/params.js"
import { type LoraAdapter } from "./Lora.js"
import { type ForwardContext, missingCache, type Module, parameter } from "./Module.js"

export class Dense implements Module {
  readonly weight: Parameter
  readonly bias: Parameter | undefined
  /** Base weights excluded from params() and their gradients skipped (adapter-only training). */
  frozen = false
  adapter: LoraAdapter | undefined
  private x: Matrix | undefined

  constructor(readonly name: string, readonly inputDim: number, readonly outputDim: number, bias = true) {
    this.weight = parameter(`${name}.weight`, [inputDim, outputDim], true)
    this.bias = bias ? parameter(`${name}.bias`, [outputDim], false) : undefined
  }

  params(): Array<Parameter> {
    const base = this.frozen ? [] : this.bias ? [this.weight, this.bias] : [this.weight]
    return this.adapter ? [...base, ...this.adapter.params()] : base
  }

  get weightMatrix(): Matrix {
    return { rows: this.inputDim, cols: this.outputDim, data: this.weight.value }
  }

  forward(x: Matrix, ctx: ForwardContext = {}): Matrix {
    if (x.cols !== this.inputDim) throw new RangeError(`${this.name}: input has ${x.cols} columns, expected ${this.inputDim}`)
    const y = matmul(x, this.weightMatrix)
    if (this.bias) addRowVector(y, this.bias.value)
    if (this.adapter) this.adapter.forward(x, y, ctx)
    if (ctx.keep) this.x = x
    return y
  }

  backward(dY: Matrix): Matrix {
    const x = this.x
    if (x === undefined) throw missingCache(this.name)
    this.x = undefined
    if (!this.frozen) {
      matmulAtB(x, dY, { out: { rows: this.inputDim, cols: this.outputDim, data: this.weight.grad }, accumulate: true })
      if (this.bias) accumulateColumnSums(dY, this.bias.grad)
    }
    const dX = matmulABt(dY, this.weightMatrix)
    if (this.adapter) this.adapter.backward(x, dY, dX)
    return dX
  }
}

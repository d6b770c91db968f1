/**
 * Two-layer MLP head y = act(x·W1 + b1)·W2 + b2 (act: GELU, tanh approximation, or ReLU).
 * Backward: dW2 += hᵀ·dY, db2 += Σ dY, dH = dY·W2ᵀ, dZ = dH ∘ act'(z), dW1 += xᵀ·dZ, db1 += Σ dZ, dX = dZ·W1ᵀ.
 */
import { type Activation, type Head, ParameterizedHead, type HeadGraph, type HeadJson, type Parameter } from "./Head.js"
import { type Matrix, matrix } from "./Matrix.js"
import { matmul, matmulABt, matmulAtB } from "./Matmul.js"
import { Rng } from "./Rng.js"
import { gelu, geluGrad } from "./internal/activation.js"
import {
  accumulateColumnSums, addRowVector, asMatrix, headToJson, loadWeights, makeParam, requireBatch, requireDim, xavierBound
} from "./internal/params.js"

export interface MlpOptions {
  readonly inputDim: number
  readonly hiddenDim: number
  readonly outputDim: number
  /** Default "gelu". */
  readonly activation?: Activation
  /** Seed of the xavier-uniform initialisation of W1 and W2 (default 0); biases start at 0. */
  readonly seed?: number
}

export class Mlp extends ParameterizedHead implements Head {
  readonly kind = "mlp" as const
  readonly inputDim: number
  readonly hiddenDim: number
  readonly outputDim: number
  readonly activation: Activation
  readonly w1: Parameter
  readonly b1: Parameter
  readonly w2: Parameter
  readonly b2: Parameter
  private cache: { readonly x: Matrix; readonly z: Matrix; readonly h: Matrix } | undefined

  private constructor(inputDim: number, hiddenDim: number, outputDim: number, activation: Activation) {
    super()
    if (activation !== "gelu" && activation !== "relu") {
      throw new RangeError(`Mlp: activation must be "gelu" or "relu", got "${String(activation)}"`)
    }
    this.inputDim = inputDim
    this.hiddenDim = hiddenDim
    this.outputDim = outputDim
    this.activation = activation
    this.w1 = makeParam("w1", [inputDim, hiddenDim], true)
    this.b1 = makeParam("b1", [hiddenDim], false)
    this.w2 = makeParam("w2", [hiddenDim, outputDim], true)
    this.b2 = makeParam("b2", [outputDim], false)
  }

  static make(options: MlpOptions): Mlp {
    const head = new Mlp(
      requireDim(options.inputDim, "inputDim", "Mlp"),
      requireDim(options.hiddenDim, "hiddenDim", "Mlp"),
      requireDim(options.outputDim, "outputDim", "Mlp"),
      options.activation ?? "gelu"
    )
    const rng = new Rng(options.seed ?? 0)
    const b1 = xavierBound(head.inputDim, head.hiddenDim)
    const b2 = xavierBound(head.hiddenDim, head.outputDim)
    rng.fillUniform(head.w1.value, -b1, b1)
    rng.fillUniform(head.w2.value, -b2, b2)
    return head
  }

  static fromJSON(json: HeadJson): Mlp {
    if (json.kind !== "mlp") throw new RangeError(`Mlp.fromJSON: kind is "${json.kind}", expected "mlp"`)
    const head = new Mlp(
      requireDim(json.config.inputDim, "config.inputDim", "Mlp.fromJSON"),
      requireDim(json.config.hiddenDim, "config.hiddenDim", "Mlp.fromJSON"),
      requireDim(json.config.outputDim, "config.outputDim", "Mlp.fromJSON"),
      json.config.activation as Activation
    )
    loadWeights(json, head.params())
    return head
  }

  private run(x: Matrix): { y: Matrix; z: Matrix; h: Matrix } {
    requireBatch(x, this.inputDim, "Mlp.forward")
    const z = matmul(x, asMatrix(this.w1))
    addRowVector(z, this.b1.value)
    const h = matrix(z.rows, z.cols)
    if (this.activation === "gelu") for (let i = 0; i < z.data.length; i++) h.data[i] = gelu(z.data[i])
    else for (let i = 0; i < z.data.length; i++) h.data[i] = z.data[i] > 0 ? z.data[i] : 0
    const y = matmul(h, asMatrix(this.w2))
    addRowVector(y, this.b2.value)
    return { y, z, h }
  }

  predict(x: Matrix): Matrix {
    return this.run(x).y
  }

  forward(x: Matrix): Matrix {
    const { y, z, h } = this.run(x)
    this.cache = { x, z, h }
    return y
  }

  backward(dY: Matrix): Matrix {
    const c = this.cache
    if (c === undefined) throw new Error("Mlp.backward: call forward() first")
    if (dY.rows !== c.x.rows || dY.cols !== this.outputDim) {
      throw new RangeError(`Mlp.backward: dY is ${dY.rows} x ${dY.cols}, expected ${c.x.rows} x ${this.outputDim}`)
    }
    matmulAtB(c.h, dY, { out: asMatrix(this.w2, "grad"), accumulate: true })
    accumulateColumnSums(dY, this.b2.grad)
    const dZ = matmulABt(dY, asMatrix(this.w2))
    const z = c.z.data
    if (this.activation === "gelu") for (let i = 0; i < z.length; i++) dZ.data[i] *= geluGrad(z[i])
    else for (let i = 0; i < z.length; i++) if (!(z[i] > 0)) dZ.data[i] = 0
    matmulAtB(c.x, dZ, { out: asMatrix(this.w1, "grad"), accumulate: true })
    accumulateColumnSums(dZ, this.b1.grad)
    return matmulABt(dZ, asMatrix(this.w1))
  }

  params(): ReadonlyArray<Parameter> {
    return [this.w1, this.b1, this.w2, this.b2]
  }



  describe(): HeadGraph {
    return {
      kind: this.kind,
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      formula: `y = ${this.activation}(x·W1 + b1)·W2 + b2`,
      steps: [
        { op: "matmul", weight: "w1" },
        { op: "addBias", bias: "b1" },
        { op: this.activation },
        { op: "matmul", weight: "w2" },
        { op: "addBias", bias: "b2" }
      ],
      weights: Object.fromEntries(this.params().map((p) => [p.name, { shape: p.shape, data: p.value }]))
    }
  }

  toJSON(): HeadJson {
    return headToJson(
      this.kind,
      { inputDim: this.inputDim, hiddenDim: this.hiddenDim, outputDim: this.outputDim, activation: this.activation },
      this.params()
    )
  }
}

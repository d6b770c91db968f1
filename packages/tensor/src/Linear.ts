/**
 * Linear head y = x·W + b, W stored [inputDim, outputDim] (the layout ONNX MatMul takes).
 * Backward: dW += xᵀ·dY, db += Σ_rows dY, dX = dY·Wᵀ.
 */
import { type Head, type HeadGraph, ParameterizedHead, type HeadJson, type Parameter } from "./Head.js"
import { type Matrix } from "./Matrix.js"
import { matmul, matmulABt, matmulAtB } from "./Matmul.js"
import { Rng } from "./Rng.js"
import {
  accumulateColumnSums, addRowVector, asMatrix, headToJson, loadWeights, makeParam, requireBatch, requireDim, xavierBound
} from "./internal/params.js"

export type LinearInit = "xavier" | "identity" | "zeros"

export interface LinearOptions {
  readonly inputDim: number
  readonly outputDim: number
  /** Default true. */
  readonly bias?: boolean
  /** "xavier" (default): uniform ±√(6/(in+out)); "identity": W = I (rectangular eye), a no-op start for adapters. */
  readonly init?: LinearInit
  /** Seed of the xavier initialisation (default 0). */
  readonly seed?: number
}

export class Linear extends ParameterizedHead implements Head {
  readonly kind = "linear" as const
  readonly inputDim: number
  readonly outputDim: number
  readonly weight: Parameter
  readonly bias: Parameter | undefined
  private x: Matrix | undefined

  private constructor(inputDim: number, outputDim: number, bias: boolean) {
    super()
    this.inputDim = inputDim
    this.outputDim = outputDim
    this.weight = makeParam("weight", [inputDim, outputDim], true)
    this.bias = bias ? makeParam("bias", [outputDim], false) : undefined
  }

  static make(options: LinearOptions): Linear {
    const inputDim = requireDim(options.inputDim, "inputDim", "Linear")
    const outputDim = requireDim(options.outputDim, "outputDim", "Linear")
    const head = new Linear(inputDim, outputDim, options.bias ?? true)
    const w = head.weight.value
    switch (options.init ?? "xavier") {
      case "xavier":
        new Rng(options.seed ?? 0).fillUniform(w, -xavierBound(inputDim, outputDim), xavierBound(inputDim, outputDim))
        break
      case "identity":
        for (let i = 0; i < Math.min(inputDim, outputDim); i++) w[i * outputDim + i] = 1
        break
      case "zeros":
        break
      default:
        throw new RangeError(`Linear: unknown init "${String(options.init)}", expected "xavier", "identity" or "zeros"`)
    }
    return head
  }

  static fromJSON(json: HeadJson): Linear {
    if (json.kind !== "linear") throw new RangeError(`Linear.fromJSON: kind is "${json.kind}", expected "linear"`)
    const head = new Linear(
      requireDim(json.config.inputDim, "config.inputDim", "Linear.fromJSON"),
      requireDim(json.config.outputDim, "config.outputDim", "Linear.fromJSON"),
      json.config.bias !== false
    )
    loadWeights(json, head.params())
    return head
  }

  predict(x: Matrix): Matrix {
    requireBatch(x, this.inputDim, "Linear.forward")
    const y = matmul(x, asMatrix(this.weight))
    if (this.bias) addRowVector(y, this.bias.value)
    return y
  }

  forward(x: Matrix): Matrix {
    const y = this.predict(x)
    this.x = x
    return y
  }

  backward(dY: Matrix): Matrix {
    const x = this.x
    if (x === undefined) throw new Error("Linear.backward: call forward() first")
    if (dY.rows !== x.rows || dY.cols !== this.outputDim) {
      throw new RangeError(`Linear.backward: dY is ${dY.rows} x ${dY.cols}, expected ${x.rows} x ${this.outputDim}`)
    }
    matmulAtB(x, dY, { out: asMatrix(this.weight, "grad"), accumulate: true })
    if (this.bias) accumulateColumnSums(dY, this.bias.grad)
    return matmulABt(dY, asMatrix(this.weight))
  }

  params(): ReadonlyArray<Parameter> {
    return this.bias ? [this.weight, this.bias] : [this.weight]
  }



  describe(): HeadGraph {
    return {
      kind: this.kind,
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      formula: this.bias ? "y = x·W + b" : "y = x·W",
      steps: this.bias ? [{ op: "matmul", weight: "weight" }, { op: "addBias", bias: "bias" }] : [{ op: "matmul", weight: "weight" }],
      weights: Object.fromEntries(this.params().map((p) => [p.name, { shape: p.shape, data: p.value }]))
    }
  }

  toJSON(): HeadJson {
    return headToJson(this.kind, { inputDim: this.inputDim, outputDim: this.outputDim, bias: this.bias !== undefined }, this.params())
  }
}

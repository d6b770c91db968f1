/**
 * Element-wise activations of transformer feed-forward blocks, with exact derivatives:
 * - "gelu":      x·Φ(x) = ½x(1 + erf(x/√2))            (BERT "gelu", ONNX Gelu)
 * - "gelu_tanh": ½x(1 + tanh(√(2/π)(x + 0.044715x³)))   (GPT-2 "gelu_new")
 * - "relu":      max(0, x)                               (OPT)
 * - "silu":      x·σ(x)                                  (Llama-style MLPs)
 * Backward keeps only the input x.
 */
import { getBackend } from "../Backend.js"
import { type Matrix, matrix } from "../Matrix.js"
import { gelu as geluTanh, geluGrad as geluTanhGrad } from "../internal/activation.js"
import { erf } from "../internal/erf.js"
import { type ForwardContext, missingCache } from "./Module.js"

export type ActivationKind = "gelu" | "gelu_tanh" | "relu" | "silu"

const INV_SQRT2 = Math.SQRT1_2
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI)
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x))

const FORWARD: Record<ActivationKind, (x: number) => number> = {
  gelu: (x) => 0.5 * x * (1 + erf(x * INV_SQRT2)),
  gelu_tanh: geluTanh,
  relu: (x) => (x > 0 ? x : 0),
  silu: (x) => x * sigmoid(x)
}
const DERIVATIVE: Record<ActivationKind, (x: number) => number> = {
  gelu: (x) => 0.5 * (1 + erf(x * INV_SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
  gelu_tanh: geluTanhGrad,
  relu: (x) => (x > 0 ? 1 : 0),
  silu: (x) => {
    const s = sigmoid(x)
    return s * (1 + x * (1 - s))
  }
}

/** Maps Hugging Face config names (hidden_act / activation_function) to a kind. */
export const activationFromConfig = (name: string, where: string): ActivationKind => {
  switch (name) {
    case "gelu":
      return "gelu"
    case "gelu_new":
    case "gelu_pytorch_tanh":
    case "gelu_fast":
      return "gelu_tanh"
    case "relu":
      return "relu"
    case "silu":
    case "swish":
      return "silu"
    default:
      throw new Error(`${where}: activation "${name}" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu, silu)`)
  }
}

export class ActivationLayer {
  private x: Matrix | undefined
  private readonly f: (x: number) => number
  private readonly df: (x: number) => number

  constructor(readonly kind: ActivationKind) {
    this.f = FORWARD[kind]
    this.df = DERIVATIVE[kind]
    if (this.f === undefined) throw new RangeError(`Activation: unknown kind "${String(kind)}"`)
  }

  forward(x: Matrix, ctx: ForwardContext = {}): Matrix {
    const y = matrix(x.rows, x.cols)
    if (this.kind === "gelu") getBackend().geluErf(x.data.length, x.data, y.data) // the encoders' hot path
    else {
      const f = this.f
      for (let i = 0; i < x.data.length; i++) y.data[i] = f(x.data[i])
    }
    if (ctx.keep) this.x = x
    return y
  }

  backward(dY: Matrix): Matrix {
    const x = this.x
    if (x === undefined) throw missingCache(`ActivationLayer(${this.kind})`)
    this.x = undefined
    const dX = matrix(x.rows, x.cols)
    if (this.kind === "gelu") getBackend().geluErfBackward(x.data.length, x.data, dY.data, dX.data)
    else {
      const df = this.df
      for (let i = 0; i < x.data.length; i++) dX.data[i] = dY.data[i] * df(x.data[i])
    }
    return dX
  }
}

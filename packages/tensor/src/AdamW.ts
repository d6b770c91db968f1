/**
 * AdamW (Loshchilov & Hutter): Adam with weight decay decoupled from the gradient, in PyTorch's order:
 *   θ ← θ·(1 − lr·λ)            (only parameters with decay = true; biases are exempt)
 *   m ← β1 m + (1−β1) g,  v ← β2 v + (1−β2) g²
 *   θ ← θ − lr · (m / (1−β1^t)) / (√(v / (1−β2^t)) + ε)
 * Moments are kept in float64.
 */
import { getBackend } from "./Backend.js"
import { type Parameter } from "./Head.js"

export interface AdamWOptions {
  /** Learning rate used when step() is called without one. */
  readonly lr: number
  readonly beta1?: number
  readonly beta2?: number
  readonly eps?: number
  /** Decoupled weight decay λ (default 0.01). */
  readonly weightDecay?: number
}

export class AdamW {
  readonly lr: number
  readonly beta1: number
  readonly beta2: number
  readonly eps: number
  readonly weightDecay: number
  private readonly m: Array<Float64Array>
  private readonly v: Array<Float64Array>
  private t = 0

  constructor(readonly params: ReadonlyArray<Parameter>, options: AdamWOptions) {
    this.lr = options.lr
    this.beta1 = options.beta1 ?? 0.9
    this.beta2 = options.beta2 ?? 0.999
    this.eps = options.eps ?? 1e-8
    this.weightDecay = options.weightDecay ?? 0.01
    if (!(this.lr >= 0)) throw new RangeError(`AdamW: lr must be ≥ 0, got ${this.lr}`)
    for (const [name, b] of [["beta1", this.beta1], ["beta2", this.beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new RangeError(`AdamW: ${name} must be in [0, 1), got ${b}`)
    }
    if (!(this.eps > 0)) throw new RangeError(`AdamW: eps must be > 0, got ${this.eps}`)
    if (!(this.weightDecay >= 0)) throw new RangeError(`AdamW: weightDecay must be ≥ 0, got ${this.weightDecay}`)
    this.m = params.map((p) => new Float64Array(p.value.length))
    this.v = params.map((p) => new Float64Array(p.value.length))
  }

  /** Number of steps taken. */
  get stepCount(): number {
    return this.t
  }

  /** One update from the accumulated grads (grads are left as they are; call zeroGrad()). */
  step(lr: number = this.lr): void {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new RangeError(`AdamW.step: lr must be finite and ≥ 0, got ${lr}`)
    this.t++
    const { beta1: b1, beta2: b2, eps } = this
    const c1 = 1 - Math.pow(b1, this.t)
    const c2 = 1 - Math.pow(b2, this.t)
    const backend = getBackend()
    for (let k = 0; k < this.params.length; k++) {
      const p = this.params[k]
      const decay = p.decay ? 1 - lr * this.weightDecay : 1
      backend.adamw(p.value, p.grad, this.m[k], this.v[k], { lr, beta1: b1, beta2: b2, eps, c1, c2, decay })
    }
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0)
  }
}

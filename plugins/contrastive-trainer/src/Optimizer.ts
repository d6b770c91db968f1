import type { Parameter } from "./Head.js"

/** Linear warmup from 0 to `peak` over `warmupSteps`, then linear decay to 0 at `totalSteps`. */
export const warmupLinear = (peak: number, warmupSteps: number, totalSteps: number) => (step: number): number => {
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps
  const rest = Math.max(1, totalSteps - warmupSteps)
  return peak * Math.max(0, 1 - (step - warmupSteps) / rest)
}

export interface AdamWOptions {
  readonly beta1: number
  readonly beta2: number
  readonly eps: number
  /** Decoupled decay (Loshchilov & Hutter), applied to parameters with `decay` only. */
  readonly weightDecay: number
}

/** AdamW over the parameters' grads; `step(lr)` updates values and zeroes the grads. */
export const adamW = (parameters: ReadonlyArray<Parameter>, options: AdamWOptions) => {
  const m = parameters.map((p) => new Float64Array(p.value.length))
  const v = parameters.map((p) => new Float64Array(p.value.length))
  let t = 0
  return {
    step: (lr: number) => {
      t++
      const c1 = 1 - options.beta1 ** t
      const c2 = 1 - options.beta2 ** t
      parameters.forEach((p, k) => {
        const mk = m[k]!
        const vk = v[k]!
        const decay = p.decay ? lr * options.weightDecay : 0
        for (let i = 0; i < p.value.length; i++) {
          const g = p.grad[i]!
          mk[i] = options.beta1 * mk[i]! + (1 - options.beta1) * g
          vk[i] = options.beta2 * vk[i]! + (1 - options.beta2) * g * g
          p.value[i] = p.value[i]! - decay * p.value[i]! - (lr * (mk[i]! / c1)) / (Math.sqrt(vk[i]! / c2) + options.eps)
        }
        p.grad.fill(0)
      })
    }
  }
}

/** Global-norm gradient clipping (as torch.nn.utils.clip_grad_norm_). */
import { getBackend } from "./Backend.js"
import { type Parameter } from "./Head.js"

/** The L2 norm of all gradients together. */
export const globalGradNorm = (params: ReadonlyArray<Parameter>): number => {
  const backend = getBackend()
  let s = 0
  for (const p of params) s += backend.dot(p.grad.length, p.grad, 0, p.grad, 0)
  return Math.sqrt(s)
}

/** Scales every gradient by maxNorm/‖g‖ when ‖g‖ > maxNorm; returns ‖g‖ before clipping. */
export const clipGradNorm = (params: ReadonlyArray<Parameter>, maxNorm: number): number => {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`)
  const norm = globalGradNorm(params)
  if (norm > maxNorm) {
    const f = maxNorm / (norm + 1e-6)
    const backend = getBackend()
    for (const p of params) backend.scal(p.grad.length, f, p.grad, 0)
  }
  return norm
}

/**
 * What every transformer layer shares: its trainable parameters, and the per-call context that
 * says whether to keep activations for backward (training) and where dropout draws its masks.
 *
 * Layers cache only what their backward reads, only when `keep` is set, and drop the cache as
 * soon as backward has used it, so a no-keep forward (inference, GradCache's first pass) holds no
 * activations at all and a kept one holds them exactly until backward reaches that layer.
 */
import { type Parameter } from "../Head.js"
import { type Rng } from "../Rng.js"

export interface ForwardContext {
  /** Keep the activations backward needs (default false: inference, nothing retained). */
  readonly keep?: boolean
  /** Dropout active (training mode). Off in eval; needs `rng`. */
  readonly train?: boolean
  /** Source of dropout masks (a seeded tensor Rng); required when train is set and dropout p > 0. */
  readonly rng?: Rng
}

export interface Module {
  /** Trainable parameters (frozen ones excluded), named by their Hugging Face module path. */
  params(): Array<Parameter>
}

export const EVAL: ForwardContext = { keep: false, train: false }

/** A parameter with its gradient buffer; `value` may be given (it is used, not copied). */
export const parameter = (name: string, shape: ReadonlyArray<number>, decay: boolean, value?: Float32Array): Parameter => {
  const size = shape.reduce((a, b) => a * b, 1)
  if (value !== undefined && value.length !== size) {
    throw new RangeError(`parameter ${name}: ${value.length} values for shape [${shape.join(", ")}]`)
  }
  return { name, shape, value: value ?? new Float32Array(size), grad: new Float32Array(size), decay }
}

/** Thrown by backward when forward did not keep activations (or backward ran twice). */
export const missingCache = (what: string): Error =>
  new Error(`${what}.backward: no activations kept; call forward with { keep: true } first (once per backward)`)

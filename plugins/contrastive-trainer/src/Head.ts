import { makeRng, normal } from "./internal/rng.js"

/**
 * Trainable heads over frozen embeddings, with analytic backward passes. Parameters are float32
 * for training; float64 heads exist for finite-difference checks. Both start as the identity, so
 * step 0 reproduces the frozen encoder and training can only move away from it on purpose.
 *
 * - linear:  y = W x + b              (W: out x in, starts as the identity)
 * - adapter: y = x + U (V x)          (V: rank x in random, U: dim x rank zero; low-rank residual)
 */
export type Floats = Float32Array | Float64Array

export interface Parameter {
  readonly name: string
  readonly value: Floats
  readonly grad: Floats
  /** Biases are not decayed by AdamW. */
  readonly decay: boolean
}

export type HeadSpec = { readonly kind: "linear"; readonly dim: number } | { readonly kind: "adapter"; readonly dim: number; readonly rank: number }

export interface Head {
  readonly spec: HeadSpec
  readonly parameters: ReadonlyArray<Parameter>
  /** rows x dim -> rows x dim; keeps what backward needs until the next forward. */
  readonly forward: (x: Floats, rows: number) => Floats
  /** Adds d(loss)/d(parameters) for the last forward's rows to the grads. */
  readonly backward: (dy: Floats) => void
}

const param = (name: string, value: Floats, decay: boolean): Parameter => ({
  name,
  value,
  grad: new (value.constructor as Float32ArrayConstructor)(value.length),
  decay
})

export const makeHead = (spec: HeadSpec, seed: number, options: { readonly float64?: boolean } = {}): Head => {
  const F = options.float64 ? Float64Array : Float32Array
  const d = spec.dim
  if (spec.kind === "linear") {
    const w = new F(d * d)
    for (let i = 0; i < d; i++) w[i * d + i] = 1
    return linear(spec, param("weight", w, true), param("bias", new F(d), false))
  }
  const next = makeRng(seed)
  const scale = 1 / Math.sqrt(d)
  const v = new F(spec.rank * d)
  for (let k = 0; k < v.length; k++) v[k] = normal(next) * scale
  return adapter(spec, param("down", v, true), param("up", new F(d * spec.rank), true))
}

const alloc = (like: Floats, n: number): Floats => new (like.constructor as Float32ArrayConstructor)(n)

const linear = (spec: HeadSpec, w: Parameter, b: Parameter): Head => {
  const d = spec.dim
  let x: Floats = new Float32Array(0)
  let rows = 0
  return {
    spec,
    parameters: [w, b],
    forward: (input, n) => {
      x = input
      rows = n
      const y = alloc(w.value, n * d)
      const W = w.value
      for (let r = 0; r < n; r++) {
        const xo = r * d
        for (let o = 0; o < d; o++) {
          let s = b.value[o]!
          const wo = o * d
          for (let k = 0; k < d; k++) s += W[wo + k]! * input[xo + k]!
          y[r * d + o] = s
        }
      }
      return y
    },
    backward: (dy) => {
      const gW = w.grad
      for (let r = 0; r < rows; r++) {
        const xo = r * d
        for (let o = 0; o < d; o++) {
          const g = dy[r * d + o]!
          if (g === 0) continue
          b.grad[o]! += g
          const wo = o * d
          for (let k = 0; k < d; k++) gW[wo + k]! += g * x[xo + k]!
        }
      }
    }
  }
}

const adapter = (spec: HeadSpec & { kind: "adapter" }, down: Parameter, up: Parameter): Head => {
  const d = spec.dim
  const r = spec.rank
  let x: Floats = new Float32Array(0)
  let h: Floats = new Float32Array(0)
  let rows = 0
  return {
    spec,
    parameters: [down, up],
    forward: (input, n) => {
      x = input
      rows = n
      h = alloc(down.value, n * r)
      const V = down.value
      const U = up.value
      const y = alloc(down.value, n * d)
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < r; j++) {
          let s = 0
          for (let k = 0; k < d; k++) s += V[j * d + k]! * input[i * d + k]!
          h[i * r + j] = s
        }
        for (let o = 0; o < d; o++) {
          let s = input[i * d + o]!
          for (let j = 0; j < r; j++) s += U[o * r + j]! * h[i * r + j]!
          y[i * d + o] = s
        }
      }
      return y
    },
    backward: (dy) => {
      const U = up.value
      const dh = alloc(down.value, r)
      for (let i = 0; i < rows; i++) {
        dh.fill(0)
        for (let o = 0; o < d; o++) {
          const g = dy[i * d + o]!
          if (g === 0) continue
          for (let j = 0; j < r; j++) {
            up.grad[o * r + j]! += g * h[i * r + j]!
            dh[j]! += g * U[o * r + j]!
          }
        }
        for (let j = 0; j < r; j++) {
          const g = dh[j]!
          if (g === 0) continue
          for (let k = 0; k < d; k++) down.grad[j * d + k]! += g * x[i * d + k]!
        }
      }
    }
  }
}

/** The weights as plain arrays (for the model folder), and back. */
export const headWeights = (head: Head): Record<string, Array<number>> =>
  Object.fromEntries(head.parameters.map((p) => [p.name, Array.from(p.value)]))

export const loadHead = (spec: HeadSpec, weights: Readonly<Record<string, ReadonlyArray<number>>>): Head => {
  const head = makeHead(spec, 0)
  for (const p of head.parameters) {
    const w = weights[p.name]
    if (!w || w.length !== p.value.length) {
      throw new Error(`head weights '${p.name}': expected ${p.value.length} numbers for a ${spec.kind} head of dim ${spec.dim}, got ${w ? w.length : "none"}`)
    }
    p.value.set(w)
  }
  return head
}

/** Applies a head to rows in inference (no state kept for backward beyond the next forward). */
export const applyHead = (head: Head, x: Float32Array, rows: number): Float32Array => Float32Array.from(head.forward(x, rows))

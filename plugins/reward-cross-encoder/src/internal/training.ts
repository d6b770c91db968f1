/**
 * The small training kit the LLM-R heads need: seeded randomness, dense heads with analytic
 * backward passes, listwise cross-entropy and AdamW. Parameters are float32 in training and may be
 * float64 for finite-difference checks (`float64: true`).
 *
 * packages/tensor is meant to own these; this stays until its heads and optimizer land.
 */

type Floats = Float32Array | Float64Array

/** mulberry32: a seeded uniform stream in [0, 1). */
export const makeRandom = (seed: number): (() => number) => {
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Standard normal draws (Box-Muller) from a uniform stream. */
export const normal = (random: () => number): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())

export const shuffled = <A>(items: ReadonlyArray<A>, random: () => number): Array<A> => {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = out[i]!
    out[i] = out[j]!
    out[j] = t
  }
  return out
}

export interface Parameter {
  readonly name: string
  readonly value: Floats
  readonly grad: Floats
}

/** A head over backbone embeddings: forward a [rows x inDim] batch, then backward its output gradient. */
export interface Head {
  readonly inDim: number
  readonly outDim: number
  readonly parameters: ReadonlyArray<Parameter>
  /** [rows x outDim]; remembers what backward needs until the next forward. */
  readonly forward: (x: ArrayLike<number>, rows: number) => Floats
  /** Adds dLoss/dparameters for the last forward to the parameters' `grad`. */
  readonly backward: (gradOut: ArrayLike<number>) => void
}

/** A head with one output per row: a score. */
export type ScoringHead = Head

const param = (name: string, size: number, float64: boolean): Parameter => {
  const Arr = float64 ? Float64Array : Float32Array
  return { name, value: new Arr(size), grad: new Arr(size) }
}

/**
 * score(x) = w2 . tanh(W1 x + b1) + b2: a one-hidden-layer scoring head. W1 ~ N(0, 1/inDim),
 * w2 ~ N(0, 1/hidden), biases zero.
 */
export const mlpScorer = (inDim: number, hidden: number, seed: number, options: { readonly float64?: boolean } = {}): ScoringHead => {
  const f64 = options.float64 ?? false
  const W1 = param("W1", hidden * inDim, f64)
  const b1 = param("b1", hidden, f64)
  const w2 = param("w2", hidden, f64)
  const b2 = param("b2", 1, f64)
  const random = makeRandom(seed)
  for (let i = 0; i < W1.value.length; i++) W1.value[i] = normal(random) / Math.sqrt(inDim)
  for (let i = 0; i < hidden; i++) w2.value[i] = normal(random) / Math.sqrt(hidden)
  let lastX: ArrayLike<number> = new Float32Array(0)
  let lastH: Floats = new Float64Array(0)
  let lastRows = 0
  return {
    inDim,
    outDim: 1,
    parameters: [W1, b1, w2, b2],
    forward: (x, rows) => {
      if (x.length !== rows * inDim) throw new Error(`mlpScorer: input has ${x.length} floats, expected ${rows}x${inDim}`)
      const h = f64 ? new Float64Array(rows * hidden) : new Float32Array(rows * hidden)
      const out = f64 ? new Float64Array(rows) : new Float32Array(rows)
      for (let r = 0; r < rows; r++) {
        let s = b2.value[0]!
        for (let j = 0; j < hidden; j++) {
          let a = b1.value[j]!
          const row = j * inDim
          for (let k = 0; k < inDim; k++) a += W1.value[row + k]! * x[r * inDim + k]!
          const t = Math.tanh(a)
          h[r * hidden + j] = t
          s += w2.value[j]! * t
        }
        out[r] = s
      }
      lastX = x
      lastH = h
      lastRows = rows
      return out
    },
    backward: (gradOut) => {
      for (let r = 0; r < lastRows; r++) {
        const g = gradOut[r]!
        if (g === 0) continue
        b2.grad[0] = b2.grad[0]! + g
        for (let j = 0; j < hidden; j++) {
          const t = lastH[r * hidden + j]!
          w2.grad[j] = w2.grad[j]! + g * t
          const ga = g * w2.value[j]! * (1 - t * t)
          b1.grad[j] = b1.grad[j]! + ga
          const row = j * inDim
          for (let k = 0; k < inDim; k++) W1.grad[row + k] = W1.grad[row + k]! + ga * lastX[r * inDim + k]!
        }
      }
    }
  }
}

/**
 * y = x + B (A x): a low-rank residual adapter (A: rank x dim, B: dim x rank). B starts at zero, so
 * the untrained head is the identity and round 0 of distillation starts from the base encoder.
 */
export const residualAdapter = (dim: number, rank: number, seed: number, options: { readonly float64?: boolean } = {}): Head => {
  const f64 = options.float64 ?? false
  const A = param("A", rank * dim, f64)
  const B = param("B", dim * rank, f64)
  const random = makeRandom(seed)
  for (let i = 0; i < A.value.length; i++) A.value[i] = normal(random) / Math.sqrt(dim)
  let lastX: ArrayLike<number> = new Float32Array(0)
  let lastU: Float64Array = new Float64Array(0)
  let lastRows = 0
  return {
    inDim: dim,
    outDim: dim,
    parameters: [A, B],
    forward: (x, rows) => {
      if (x.length !== rows * dim) throw new Error(`residualAdapter: input has ${x.length} floats, expected ${rows}x${dim}`)
      const u = new Float64Array(rows * rank)
      const out = f64 ? new Float64Array(rows * dim) : new Float32Array(rows * dim)
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < rank; i++) {
          let s = 0
          for (let k = 0; k < dim; k++) s += A.value[i * dim + k]! * x[r * dim + k]!
          u[r * rank + i] = s
        }
        for (let k = 0; k < dim; k++) {
          let s = x[r * dim + k]!
          for (let i = 0; i < rank; i++) s += B.value[k * rank + i]! * u[r * rank + i]!
          out[r * dim + k] = s
        }
      }
      lastX = x
      lastU = u
      lastRows = rows
      return out
    },
    backward: (gradOut) => {
      const gu = new Float64Array(rank)
      for (let r = 0; r < lastRows; r++) {
        gu.fill(0)
        for (let k = 0; k < dim; k++) {
          const g = gradOut[r * dim + k]!
          if (g === 0) continue
          for (let i = 0; i < rank; i++) {
            B.grad[k * rank + i] = B.grad[k * rank + i]! + g * lastU[r * rank + i]!
            gu[i] = gu[i]! + g * B.value[k * rank + i]!
          }
        }
        for (let i = 0; i < rank; i++) {
          const g = gu[i]!
          if (g === 0) continue
          for (let k = 0; k < dim; k++) A.grad[i * dim + k] = A.grad[i * dim + k]! + g * lastX[r * dim + k]!
        }
      }
    }
  }
}

/** Cross-entropy of softmax(logits) against `target`, and its gradient with respect to the logits. */
export const listwiseCrossEntropy = (logits: ArrayLike<number>, target: number): { loss: number; gradLogits: Float64Array } => {
  let max = -Infinity
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!
  let sum = 0
  const grad = new Float64Array(logits.length)
  for (let i = 0; i < logits.length; i++) sum += grad[i] = Math.exp(logits[i]! - max)
  for (let i = 0; i < logits.length; i++) grad[i] = grad[i]! / sum
  const loss = max + Math.log(sum) - logits[target]!
  grad[target] = grad[target]! - 1
  return { loss, gradLogits: grad }
}

export interface AdamWOptions {
  readonly lr: number
  readonly weightDecay: number
  readonly beta1?: number
  readonly beta2?: number
  readonly eps?: number
}

/** AdamW (decoupled weight decay, bias-corrected moments); `step` applies and zeroes the gradients. */
export const adamW = (parameters: ReadonlyArray<Parameter>, options: AdamWOptions) => {
  const beta1 = options.beta1 ?? 0.9
  const beta2 = options.beta2 ?? 0.999
  const eps = options.eps ?? 1e-8
  const m = parameters.map((p) => new Float64Array(p.value.length))
  const v = parameters.map((p) => new Float64Array(p.value.length))
  let t = 0
  return {
    step: () => {
      t++
      const c1 = 1 - beta1 ** t
      const c2 = 1 - beta2 ** t
      parameters.forEach((p, pi) => {
        const mp = m[pi]!
        const vp = v[pi]!
        for (let i = 0; i < p.value.length; i++) {
          const g = p.grad[i]!
          mp[i] = beta1 * mp[i]! + (1 - beta1) * g
          vp[i] = beta2 * vp[i]! + (1 - beta2) * g * g
          p.value[i] = p.value[i]! * (1 - options.lr * options.weightDecay) - (options.lr * (mp[i]! / c1)) / (Math.sqrt(vp[i]! / c2) + eps)
          p.grad[i] = 0
        }
      })
    }
  }
}

/** What the training loops need besides the head: seeded randomness, the loss and an optimizer step. */
export interface TrainingTools {
  readonly random: () => number
  readonly shuffle: <A>(items: ReadonlyArray<A>) => Array<A>
  readonly listwiseCrossEntropy: typeof listwiseCrossEntropy
  readonly step: () => void
}

export const tools = (head: Head, seed: number, optimizer: AdamWOptions): TrainingTools => {
  const random = makeRandom(seed)
  const opt = adamW(head.parameters, optimizer)
  return { random, shuffle: (items) => shuffled(items, random), listwiseCrossEntropy, step: opt.step }
}

/** Head weights as JSON-safe arrays, and back. */
export const saveParameters = (head: Head): Record<string, Array<number>> =>
  Object.fromEntries(head.parameters.map((p) => [p.name, Array.from(p.value)]))

export const loadParameters = (head: Head, saved: Readonly<Record<string, ReadonlyArray<number>>>): void => {
  for (const p of head.parameters) {
    const values = saved[p.name]
    if (!values || values.length !== p.value.length) {
      throw new Error(`head parameter '${p.name}': saved ${values ? values.length : "no"} values, expected ${p.value.length}`)
    }
    p.value.set(values)
  }
}

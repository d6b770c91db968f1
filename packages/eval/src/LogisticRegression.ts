import { matmul, matmulAtB, type Matrix } from "@embedflow/tensor"

/**
 * L2-regularised logistic regression fitted by L-BFGS, the model scikit-learn's
 * `LogisticRegression()` fits by default (lbfgs, C = 1, intercept not penalised): multinomial
 * softmax for 3+ classes, the binary sigmoid model for 2 (sklearn's `multi_class="auto"`: one weight
 * vector, not two, which changes what the penalty does). Minimises
 *   (1/n)·[Σᵢ −log p(yᵢ|xᵢ) + ‖W‖²/(2C)]
 * (scikit-learn's objective divided by n: the same optimum). Products go through tensor's matmul;
 * the objective and the L-BFGS state are float64.
 */
export interface LogisticRegressionOptions {
  /** Inverse regularisation strength, as scikit-learn's C. */
  readonly C?: number
  /** L-BFGS iterations; MTEB's evaluator uses scikit-learn with max_iter = 100. */
  readonly maxIter?: number
  /** Stop when the largest gradient entry is below this. */
  readonly tol?: number
  /** L-BFGS history. */
  readonly memory?: number
}

export interface LogisticRegressionModel {
  readonly classes: number
  readonly dim: number
  /** dim x columns (columns = 1 for two classes, else `classes`). */
  readonly weights: Float64Array
  readonly bias: Float64Array
  readonly iterations: number
  readonly converged: boolean
  /** Final objective value (mean loss + penalty / n). */
  readonly loss: number
}

const columnsFor = (classes: number) => (classes === 2 ? 1 : classes)

/** Logits n x classes of rows x under (W, b); two classes get a zero logit for class 0. */
const logits = (x: Matrix, w: Float64Array, b: Float64Array, classes: number): Float64Array => {
  const cols = columnsFor(classes)
  const z = matmul(x, { rows: x.cols, cols, data: Float32Array.from(w) })
  const out = new Float64Array(x.rows * classes)
  for (let i = 0; i < x.rows; i++) {
    for (let c = 0; c < cols; c++) out[i * classes + (classes === 2 ? 1 : c)] = z.data[i * cols + c]! + b[c]!
  }
  return out
}

/** Objective and gradient (over [W; b] flattened) at a parameter vector. */
const objective = (x: Matrix, y: Int32Array, classes: number, C: number, params: Float64Array) => {
  const n = x.rows
  const d = x.cols
  const cols = columnsFor(classes)
  const w = params.subarray(0, d * cols)
  const b = params.subarray(d * cols)
  const z = logits(x, w, b, classes)
  let loss = 0
  // Residual P − Y on the parameterised columns, scaled by 1/n.
  const r = new Float32Array(n * cols)
  const gb = new Float64Array(cols)
  for (let i = 0; i < n; i++) {
    const o = i * classes
    let max = -Infinity
    for (let c = 0; c < classes; c++) max = Math.max(max, z[o + c]!)
    let sum = 0
    for (let c = 0; c < classes; c++) sum += Math.exp(z[o + c]! - max)
    const logSum = max + Math.log(sum)
    loss += logSum - z[o + y[i]!]!
    for (let col = 0; col < cols; col++) {
      const c = classes === 2 ? 1 : col
      const g = (Math.exp(z[o + c]! - logSum) - (y[i] === c ? 1 : 0)) / n
      r[i * cols + col] = g
      gb[col]! += g
    }
  }
  const gw = matmulAtB(x, { rows: n, cols, data: r })
  const grad = new Float64Array(params.length)
  let penalty = 0
  for (let j = 0; j < d * cols; j++) {
    penalty += w[j]! * w[j]!
    grad[j] = gw.data[j]! + w[j]! / (C * n)
  }
  grad.set(gb, d * cols)
  return { value: loss / n + penalty / (2 * C * n), grad }
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}

const maxAbs = (a: Float64Array) => {
  let m = 0
  for (const v of a) m = Math.max(m, Math.abs(v))
  return m
}

/** Fits on rows `x` (n x d) with labels 0..classes-1. */
export const fitLogisticRegression = (x: Matrix, y: ArrayLike<number>, classes: number, options: LogisticRegressionOptions = {}): LogisticRegressionModel => {
  const C = options.C ?? 1
  const maxIter = options.maxIter ?? 100
  const tol = options.tol ?? 1e-6
  const memory = options.memory ?? 10
  if (y.length !== x.rows) throw new RangeError(`logistic regression: ${x.rows} rows but ${y.length} labels`)
  if (classes < 2) throw new RangeError(`logistic regression: needs at least 2 classes, got ${classes}`)
  const labels = Int32Array.from(y)
  for (const l of labels) if (!(l >= 0 && l < classes)) throw new RangeError(`logistic regression: label ${l} outside 0..${classes - 1}`)
  const size = x.cols * columnsFor(classes) + columnsFor(classes)
  let params: Float64Array = new Float64Array(size)
  let f = objective(x, labels, classes, C, params)
  const s: Array<Float64Array> = []
  const yk: Array<Float64Array> = []
  let iter = 0
  let converged = maxAbs(f.grad) <= tol
  while (!converged && iter < maxIter) {
    // Two-loop recursion: direction = −H·g.
    const q = Float64Array.from(f.grad)
    const alphas: Array<number> = []
    for (let i = s.length - 1; i >= 0; i--) {
      const a = dot(s[i]!, q) / dot(yk[i]!, s[i]!)
      alphas[i] = a
      for (let j = 0; j < size; j++) q[j]! -= a * yk[i]![j]!
    }
    const gamma = s.length > 0 ? dot(s[s.length - 1]!, yk[yk.length - 1]!) / dot(yk[yk.length - 1]!, yk[yk.length - 1]!) : 1 / Math.max(1, maxAbs(f.grad))
    for (let j = 0; j < size; j++) q[j]! *= gamma
    for (let i = 0; i < s.length; i++) {
      const beta = dot(yk[i]!, q) / dot(yk[i]!, s[i]!)
      for (let j = 0; j < size; j++) q[j]! += s[i]![j]! * (alphas[i]! - beta)
    }
    for (let j = 0; j < size; j++) q[j] = -q[j]!
    let slope = dot(q, f.grad)
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      s.length = 0
      yk.length = 0
      for (let j = 0; j < size; j++) q[j] = -f.grad[j]!
      slope = dot(q, f.grad)
    }
    // Backtracking line search with the Armijo condition.
    let step = 1
    let next: Float64Array
    let fn: ReturnType<typeof objective>
    for (;;) {
      next = new Float64Array(size)
      for (let j = 0; j < size; j++) next[j] = params[j]! + step * q[j]!
      fn = objective(x, labels, classes, C, next)
      if (fn.value <= f.value + 1e-4 * step * slope || step < 1e-12) break
      step /= 2
    }
    const sk = new Float64Array(size)
    const ykNew = new Float64Array(size)
    for (let j = 0; j < size; j++) {
      sk[j] = next[j]! - params[j]!
      ykNew[j] = fn.grad[j]! - f.grad[j]!
    }
    if (dot(sk, ykNew) > 1e-12) {
      s.push(sk)
      yk.push(ykNew)
      if (s.length > memory) {
        s.shift()
        yk.shift()
      }
    }
    const improvement = f.value - fn.value
    params = next
    f = fn
    iter++
    converged = maxAbs(f.grad) <= tol || (improvement >= 0 && improvement <= 1e-15 * Math.max(1, Math.abs(f.value)))
  }
  const d = x.cols * columnsFor(classes)
  return { classes, dim: x.cols, weights: params.slice(0, d), bias: params.slice(d), iterations: iter, converged, loss: f.value }
}

/** Class probabilities, n x classes, row-major. */
export const predictProba = (model: LogisticRegressionModel, x: Matrix): Float64Array => {
  const z = logits(x, model.weights, model.bias, model.classes)
  const k = model.classes
  for (let i = 0; i < x.rows; i++) {
    let max = -Infinity
    for (let c = 0; c < k; c++) max = Math.max(max, z[i * k + c]!)
    let sum = 0
    for (let c = 0; c < k; c++) sum += z[i * k + c] = Math.exp(z[i * k + c]! - max)
    for (let c = 0; c < k; c++) z[i * k + c]! /= sum
  }
  return z
}

/** The most probable class of each row (the lowest index on ties, as numpy's argmax). */
export const predict = (model: LogisticRegressionModel, x: Matrix): Int32Array => {
  const p = predictProba(model, x)
  const k = model.classes
  const out = new Int32Array(x.rows)
  for (let i = 0; i < x.rows; i++) {
    let arg = 0
    for (let c = 1; c < k; c++) if (p[i * k + c]! > p[i * k + arg]!) arg = c
    out[i] = arg
  }
  return out
}

/** The objective and its gradient, exposed for the finite-difference check. */
export const logisticObjective = (x: Matrix, y: ArrayLike<number>, classes: number, C: number, params: Float64Array) =>
  objective(x, Int32Array.from(y), classes, C, params)

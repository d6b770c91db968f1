import { type HeadJson, type HeadKind, type Parameter, type TensorJson } from "../Head.js"
import { type Matrix, matrix } from "../Matrix.js"
import { base64ToFloat32, float32ToBase64 } from "./base64.js"

export const makeParam = (name: string, shape: ReadonlyArray<number>, decay: boolean): Parameter => {
  const size = shape.reduce((a, b) => a * b, 1)
  return { name, shape, value: new Float32Array(size), grad: new Float32Array(size), decay }
}

/** A parameter's value (or grad) as a matrix view; vectors are 1 x n. */
export const asMatrix = (p: Parameter, which: "value" | "grad" = "value"): Matrix => {
  const [r, c] = p.shape.length === 1 ? [1, p.shape[0]] : [p.shape[0], p.shape[1]]
  return matrix(r, c, p[which])
}

/** grad[j] += Σ_i dY[i, j] */
export const accumulateColumnSums = (dY: Matrix, grad: Float32Array): void => {
  const n = dY.cols
  for (let i = 0; i < dY.rows; i++) {
    const o = i * n
    for (let j = 0; j < n; j++) grad[j] += dY.data[o + j]
  }
}

/** y[i, :] += b */
export const addRowVector = (y: Matrix, b: Float32Array): void => {
  const n = y.cols
  for (let i = 0; i < y.rows; i++) {
    const o = i * n
    for (let j = 0; j < n; j++) y.data[o + j] += b[j]
  }
}

/** Xavier/Glorot uniform bound for a fan_in x fan_out weight. */
export const xavierBound = (fanIn: number, fanOut: number): number => Math.sqrt(6 / (fanIn + fanOut))

export const headToJson = (
  kind: HeadKind,
  config: Readonly<Record<string, number | string | boolean>>,
  params: ReadonlyArray<Parameter>
): HeadJson => ({
  format: "embedflow.head/v1",
  kind,
  config,
  weights: Object.fromEntries(
    params.map((p): [string, TensorJson] => [p.name, { shape: [...p.shape], dtype: "float32", base64: float32ToBase64(p.value) }])
  )
})

/** Copies serialised weights into a head's parameters, checking names and shapes. */
export const loadWeights = (json: HeadJson, params: ReadonlyArray<Parameter>): void => {
  for (const p of params) {
    const w = json.weights[p.name]
    if (w === undefined) throw new RangeError(`${json.kind} head JSON: missing weight "${p.name}"`)
    if (w.dtype !== "float32") throw new RangeError(`${json.kind} head JSON: weight "${p.name}" has dtype ${String(w.dtype)}, expected float32`)
    if (!Array.isArray(w.shape) || w.shape.length !== p.shape.length || w.shape.some((d, i) => d !== p.shape[i])) {
      throw new RangeError(`${json.kind} head JSON: weight "${p.name}" has shape [${String(w.shape)}], expected [${p.shape.join(", ")}]`)
    }
    const data = base64ToFloat32(w.base64, `${json.kind} head JSON weight "${p.name}"`)
    if (data.length !== p.value.length) {
      throw new RangeError(`${json.kind} head JSON: weight "${p.name}" holds ${data.length} values, expected ${p.value.length}`)
    }
    p.value.set(data)
  }
  const extra = Object.keys(json.weights).filter((k) => !params.some((p) => p.name === k))
  if (extra.length > 0) throw new RangeError(`${json.kind} head JSON: unexpected weights ${extra.map((e) => `"${e}"`).join(", ")}`)
}

export const requireBatch = (x: Matrix, dim: number, what: string): void => {
  if (x.cols !== dim) throw new RangeError(`${what}: input has ${x.cols} columns, expected ${dim}`)
  if (x.data.length !== x.rows * x.cols) throw new RangeError(`${what}: ${x.rows} x ${x.cols} input holds ${x.data.length} values`)
}

export const requireDim = (value: unknown, name: string, what: string): number => {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new RangeError(`${what}: ${name} must be a positive integer, got ${String(value)}`)
  }
  return value
}

/**
 * Argument checks of the TypeScript backend's kernels (the native addon makes the same checks in C++):
 * integer sizes, leading dimensions that cover a row, every element of every operand inside its array,
 * and no output overlapping an input (the kernels read A and B while writing C).
 */
import type { BatchedSgemmArgs, SgemmArgs } from "../Backend.js"

const requireInt = (fn: string, what: string, v: number, min: number): void => {
  if (!Number.isInteger(v) || v < min || v > 0x7fffffff) throw new RangeError(`${fn}: ${what} must be an integer >= ${min} (and < 2^31), got ${v}`)
}

interface Span {
  readonly array: Float32Array
  readonly start: number
  readonly end: number
}

const operand = (
  fn: string, what: string, array: Float32Array, offset: number, rows: number, cols: number, ld: number, extra: number
): Span | undefined => {
  if (!(array instanceof Float32Array)) throw new TypeError(`${fn}: ${what} must be a Float32Array`)
  requireInt(fn, `${what} offset`, offset, 0)
  requireInt(fn, `ld of ${what}`, ld, 1)
  if (ld < Math.max(1, cols)) throw new RangeError(`${fn}: leading dimension of ${what} is ${ld}, must be >= its stored column count ${cols}`)
  if (rows === 0 || cols === 0) return undefined
  const end = offset + (rows - 1) * ld + cols + extra
  if (end > array.length) throw new RangeError(`${fn}: ${what} needs elements up to ${end} but its Float32Array holds ${array.length}`)
  return { array, start: offset, end }
}

const overlaps = (x: Span, y: Span): boolean => {
  if (x.array.buffer !== y.array.buffer) return false
  const xs = x.array.byteOffset + 4 * x.start, xe = x.array.byteOffset + 4 * x.end
  const ys = y.array.byteOffset + 4 * y.start, ye = y.array.byteOffset + 4 * y.end
  return xs < ye && ys < xe
}

/** Batched outputs are disjoint as consecutive blocks or as side-by-side column blocks of wider rows (attention heads). */
const disjointOutputs = (m: number, n: number, ldc: number, strideC: number, batch: number): boolean =>
  strideC >= (m - 1) * ldc + n || (strideC >= n && (batch - 1) * strideC + n <= ldc)

export const checkSgemm = (fn: string, g: SgemmArgs, batch = 1, strideA = 0, strideB = 0, strideC = 0): void => {
  requireInt(fn, "m", g.m, 0)
  requireInt(fn, "n", g.n, 0)
  requireInt(fn, "k", g.k, 0)
  if (typeof g.alpha !== "number" || typeof g.beta !== "number") throw new TypeError(`${fn}: alpha and beta must be numbers`)
  const a = operand(fn, "A", g.a, g.aOffset, g.transA ? g.k : g.m, g.transA ? g.m : g.k, g.lda, (batch - 1) * strideA)
  const b = operand(fn, "B", g.b, g.bOffset, g.transB ? g.n : g.k, g.transB ? g.k : g.n, g.ldb, (batch - 1) * strideB)
  const c = operand(fn, "C", g.c, g.cOffset, g.m, g.n, g.ldc, (batch - 1) * strideC)
  if (batch > 1 && g.m > 0 && g.n > 0 && !disjointOutputs(g.m, g.n, g.ldc, strideC, batch)) {
    throw new RangeError(
      `${fn}: strideC ${strideC} would make the outputs overlap (needs consecutive blocks, >= (m-1)·ldc + n = ${(g.m - 1) * g.ldc + g.n}, ` +
        `or side-by-side column blocks, >= n = ${g.n} with (batch-1)·strideC + n <= ldc = ${g.ldc})`
    )
  }
  if (g.k > 0 && c !== undefined && ((a !== undefined && overlaps(a, c)) || (b !== undefined && overlaps(b, c)))) {
    throw new RangeError(`${fn}: C must not share memory with A or B`)
  }
}

export const checkBatched = (fn: string, g: BatchedSgemmArgs): void => {
  requireInt(fn, "batch", g.batch, 0)
  requireInt(fn, "strideA", g.strideA, 0)
  requireInt(fn, "strideB", g.strideB, 0)
  requireInt(fn, "strideC", g.strideC, 0)
  if (g.batch > 0) checkSgemm(fn, g, g.batch, g.strideA, g.strideB, g.strideC)
}

export const checkVector = (fn: string, what: string, n: number, x: Float32Array, offset: number): void => {
  if (!(x instanceof Float32Array)) throw new TypeError(`${fn}: ${what} must be a Float32Array`)
  requireInt(fn, "n", n, 0)
  requireInt(fn, `${what} offset`, offset, 0)
  if (offset + n > x.length) throw new RangeError(`${fn}: ${n} elements from offset ${offset} exceed ${what}'s ${x.length}`)
}

export const checkAdamw = (w: Float32Array, g: Float32Array, m: Float64Array, v: Float64Array): void => {
  if (!(w instanceof Float32Array && g instanceof Float32Array)) throw new TypeError("adamw: w and g must be Float32Arrays")
  if (!(m instanceof Float64Array && v instanceof Float64Array)) throw new TypeError("adamw: m and v must be Float64Arrays")
  if (g.length !== w.length || m.length !== w.length || v.length !== w.length) {
    throw new RangeError(`adamw: w, g, m, v hold ${w.length}, ${g.length}, ${m.length}, ${v.length} values; they must match`)
  }
}

export const checkRows = (fn: string, rows: number, cols: number, norms: Float64Array, ...arrays: ReadonlyArray<readonly [string, Float32Array]>): void => {
  requireInt(fn, "rows", rows, 0)
  requireInt(fn, "cols", cols, 0)
  if (!(norms instanceof Float64Array) || norms.length < rows) throw new RangeError(`${fn}: norms must be a Float64Array of at least ${rows} values`)
  for (const [what, a] of arrays) {
    if (!(a instanceof Float32Array) || a.length < rows * cols) throw new RangeError(`${fn}: ${what} must be a Float32Array of at least ${rows} x ${cols} values`)
  }
}

/** An element-wise kernel's operands: each a Float32Array of at least n values. */
export const checkElementwise = (fn: string, n: number, ...arrays: ReadonlyArray<readonly [string, Float32Array]>): void => {
  requireInt(fn, "n", n, 0)
  for (const [what, a] of arrays) {
    if (!(a instanceof Float32Array) || a.length < n) throw new RangeError(`${fn}: ${what} must be a Float32Array of at least ${n} values`)
  }
}

/** dropout's operands: a 4-word state, and n values past each offset. */
export const checkDropout = (
  n: number, p: number, state: Uint32Array, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number, keep: Uint8Array, keepOffset: number
): void => {
  requireInt("dropout", "n", n, 0)
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: p must be in [0, 1), got ${p}`)
  if (!(state instanceof Uint32Array) || state.length !== 4) throw new RangeError("dropout: state must be a Uint32Array of 4 words")
  checkVector("dropout", "x", n, x, xOffset)
  checkVector("dropout", "y", n, y, yOffset)
  requireInt("dropout", "keep offset", keepOffset, 0)
  if (!(keep instanceof Uint8Array) || keepOffset + n > keep.length) throw new RangeError(`dropout: keep must be a Uint8Array of at least ${keepOffset + n} values`)
}

/** layerNorm / layerNormBackward operands: rows x cols blocks, cols-long vectors, rows-long rstd. */
export const checkLayerNorm = (
  fn: string, rows: number, cols: number, rstd: Float64Array, blocks: ReadonlyArray<readonly [string, Float32Array | undefined]>,
  vectors: ReadonlyArray<readonly [string, Float32Array | undefined]>
): void => {
  requireInt(fn, "rows", rows, 0)
  requireInt(fn, "cols", cols, 1)
  if (!(rstd instanceof Float64Array) || rstd.length < rows) throw new RangeError(`${fn}: rstd must be a Float64Array of at least ${rows} values`)
  for (const [what, a] of blocks) {
    if (a !== undefined && (!(a instanceof Float32Array) || a.length < rows * cols)) throw new RangeError(`${fn}: ${what} must be a Float32Array of at least ${rows} x ${cols} values`)
  }
  for (const [what, a] of vectors) {
    if (a !== undefined && (!(a instanceof Float32Array) || a.length < cols)) throw new RangeError(`${fn}: ${what} must be a Float32Array of at least ${cols} values`)
  }
}

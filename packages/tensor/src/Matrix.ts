/**
 * A dense row-major float32 matrix: element (i, j) is `data[i * cols + j]`.
 * A plain record, not a class, so views over existing buffers (an embedding cache, a slice of a
 * batch) cost nothing.
 */
export interface Matrix {
  readonly rows: number
  readonly cols: number
  readonly data: Float32Array
}

/** Wraps `data` (not copied) as a rows x cols matrix; a fresh zero matrix when `data` is omitted. */
export const matrix = (rows: number, cols: number, data?: Float32Array): Matrix => {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new RangeError(`matrix: rows and cols must be non-negative integers, got ${rows} x ${cols}`)
  }
  if (data === undefined) return { rows, cols, data: new Float32Array(rows * cols) }
  if (data.length !== rows * cols) {
    throw new RangeError(`matrix: ${rows} x ${cols} needs ${rows * cols} values, got ${data.length}`)
  }
  return { rows, cols, data }
}

export const zeros = (rows: number, cols: number): Matrix => matrix(rows, cols)

/** Copies nested arrays (all rows the same length) into a matrix. */
export const fromRows = (rows: ReadonlyArray<ArrayLike<number>>, cols?: number): Matrix => {
  const c = cols ?? (rows.length > 0 ? rows[0].length : 0)
  const out = matrix(rows.length, c)
  rows.forEach((r, i) => {
    if (r.length !== c) throw new RangeError(`fromRows: row ${i} has ${r.length} values, expected ${c}`)
    for (let j = 0; j < c; j++) out.data[i * c + j] = r[j]
  })
  return out
}

export const clone = (m: Matrix): Matrix => ({ rows: m.rows, cols: m.cols, data: m.data.slice() })

/** A view (no copy) of row i. */
export const row = (m: Matrix, i: number): Float32Array => m.data.subarray(i * m.cols, (i + 1) * m.cols)

/** A view (no copy) of rows [start, end). */
export const sliceRows = (m: Matrix, start: number, end: number): Matrix => {
  if (start < 0 || end > m.rows || start > end) {
    throw new RangeError(`sliceRows: [${start}, ${end}) is outside 0..${m.rows}`)
  }
  return { rows: end - start, cols: m.cols, data: m.data.subarray(start * m.cols, end * m.cols) }
}

/** Stacks matrices with the same column count vertically (copies). */
export const concatRows = (parts: ReadonlyArray<Matrix>): Matrix => {
  if (parts.length === 0) throw new RangeError("concatRows: nothing to concatenate")
  const cols = parts[0].cols
  let rows = 0
  for (const p of parts) {
    if (p.cols !== cols) throw new RangeError(`concatRows: column counts differ (${cols} vs ${p.cols})`)
    rows += p.rows
  }
  const out = matrix(rows, cols)
  let offset = 0
  for (const p of parts) {
    out.data.set(p.data, offset)
    offset += p.data.length
  }
  return out
}

/** Gathers the given rows of `m` into a new matrix (batch assembly from an embedding cache). */
export const gatherRows = (m: Matrix, indices: ArrayLike<number>): Matrix => {
  const out = matrix(indices.length, m.cols)
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]
    if (!Number.isInteger(r) || r < 0 || r >= m.rows) {
      throw new RangeError(`gatherRows: index ${r} at position ${i} is outside 0..${m.rows - 1}`)
    }
    out.data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols)
  }
  return out
}

export const transpose = (m: Matrix): Matrix => {
  const out = matrix(m.cols, m.rows)
  const { rows, cols, data } = m
  const o = out.data
  // 32x32 tiles keep both the read and the write side in cache.
  for (let i0 = 0; i0 < rows; i0 += 32) {
    const i1 = Math.min(rows, i0 + 32)
    for (let j0 = 0; j0 < cols; j0 += 32) {
      const j1 = Math.min(cols, j0 + 32)
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) o[j * rows + i] = data[i * cols + j]
    }
  }
  return out
}

/** Nested arrays, for printing and JSON. */
export const toRows = (m: Matrix): Array<Array<number>> =>
  Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)))

export const assertShape = (m: Matrix, rows: number | undefined, cols: number | undefined, what: string): void => {
  if ((rows !== undefined && m.rows !== rows) || (cols !== undefined && m.cols !== cols)) {
    throw new RangeError(
      `${what}: expected shape ${rows ?? "*"} x ${cols ?? "*"}, got ${m.rows} x ${m.cols}`
    )
  }
  if (m.data.length !== m.rows * m.cols) {
    throw new RangeError(`${what}: ${m.rows} x ${m.cols} matrix holds ${m.data.length} values`)
  }
}

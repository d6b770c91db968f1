/**
 * Common-component removal (the "minus first PC" of SIF): fit the top principal directions of a set
 * of embeddings, then subtract each embedding's projection on them. As in Arora et al. (and
 * scikit-learn's TruncatedSVD that their code uses) the data is NOT centred: the directions are the
 * top right singular vectors of X, found by power iteration on the float64 Gram matrix XᵀX.
 */

export interface PrincipalComponentsOptions {
  /** How many directions to fit (default 1); fewer are kept when the data's rank is lower. */
  readonly components?: number
  /** Power-iteration cap per component (default 10000). */
  readonly maxIterations?: number
  /** Stop when ‖Gv − λv‖ <= tolerance·λ (default 1e-12). */
  readonly tolerance?: number
}

export interface PrincipalComponentsJson {
  readonly dim: number
  readonly components: ReadonlyArray<ReadonlyArray<number>>
  readonly eigenvalues: ReadonlyArray<number>
}

export class PrincipalComponents {
  private constructor(
    readonly dim: number,
    /** Row-major [count x dim], unit length, by decreasing eigenvalue; sign: largest |entry| positive. */
    readonly components: Float64Array,
    /** Eigenvalues of XᵀX (squared singular values of X), decreasing. */
    readonly eigenvalues: Float64Array
  ) {}

  get count(): number {
    return this.eigenvalues.length
  }

  /** Fits on row-major `data` [rows x dim]. */
  static fit(data: Float32Array, dim: number, options: PrincipalComponentsOptions = {}): PrincipalComponents {
    checkShape(data, dim, "PrincipalComponents.fit")
    const k = options.components ?? 1
    const maxIterations = options.maxIterations ?? 10_000
    const tolerance = options.tolerance ?? 1e-12
    if (!Number.isInteger(k) || k < 1 || k > dim) throw new RangeError(`PrincipalComponents.fit: components must be an integer in [1, ${dim}], got ${k}`)
    const rows = data.length / dim
    if (rows === 0) throw new RangeError("PrincipalComponents.fit: no rows to fit on")
    const gram = new Float64Array(dim * dim)
    for (let r = 0; r < rows; r++) {
      const o = r * dim
      for (let i = 0; i < dim; i++) {
        const xi = data[o + i]!
        if (xi === 0) continue
        const gi = i * dim
        for (let j = i; j < dim; j++) gram[gi + j] += xi * data[o + j]!
      }
    }
    for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) gram[i * dim + j] = gram[j * dim + i]!
    // Deterministic start: the column sums (Xᵀ1), which embedding sets share a large part of; a
    // coordinate vector when they vanish.
    const colSums = new Float64Array(dim)
    for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) colSums[j] += data[r * dim + j]!
    const components = new Float64Array(k * dim)
    const eigenvalues = new Float64Array(k)
    const v = new Float64Array(dim)
    const w = new Float64Array(dim)
    for (let c = 0; c < k; c++) {
      v.set(colSums)
      for (let p = 0; p < c; p++) axpy(v, components.subarray(p * dim, (p + 1) * dim), -dot(v, components.subarray(p * dim, (p + 1) * dim)))
      if (normalize(v) === 0) {
        v.fill(0)
        v[c] = 1
      }
      let lambda = 0
      let converged = false
      for (let it = 0; it < maxIterations && !converged; it++) {
        matvec(gram, v, w, dim)
        lambda = dot(v, w)
        // Residual of the Rayleigh quotient: small for any vector of a (possibly repeated) eigenspace.
        let res = 0
        for (let j = 0; j < dim; j++) res += (w[j]! - lambda * v[j]!) ** 2
        if (lambda <= 0 || Math.sqrt(res) <= tolerance * lambda) converged = true
        if (normalize(w) === 0) break
        v.set(w)
      }
      if (!converged && lambda > 0) {
        throw new Error(`PrincipalComponents.fit: component ${c + 1} did not converge in ${maxIterations} power iterations; raise maxIterations or tolerance`)
      }
      matvec(gram, v, w, dim)
      lambda = dot(v, w)
      // No energy left (rank < components): a direction here would be arbitrary, so stop.
      if (!(lambda > 0)) return new PrincipalComponents(dim, components.slice(0, c * dim), eigenvalues.slice(0, c))
      let big = 0
      for (let j = 1; j < dim; j++) if (Math.abs(v[j]!) > Math.abs(v[big]!)) big = j
      if (v[big]! < 0) for (let j = 0; j < dim; j++) v[j] = -v[j]!
      components.set(v, c * dim)
      eigenvalues[c] = lambda
      // Deflate so the next power iteration finds the next direction.
      for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) gram[i * dim + j] -= lambda * v[i]! * v[j]!
    }
    return new PrincipalComponents(dim, components, eigenvalues)
  }

  /** x − Σ_c (x·u_c) u_c for every row (float64 accumulation); returns a new array. */
  apply(data: Float32Array): Float32Array {
    checkShape(data, this.dim, "PrincipalComponents.apply")
    const { dim } = this
    const out = new Float32Array(data.length)
    const row = new Float64Array(dim)
    for (let o = 0; o < data.length; o += dim) {
      for (let j = 0; j < dim; j++) row[j] = data[o + j]!
      for (let c = 0; c < this.count; c++) {
        const u = this.components.subarray(c * dim, (c + 1) * dim)
        axpy(row, u, -dot(row, u))
      }
      for (let j = 0; j < dim; j++) out[o + j] = row[j]!
    }
    return out
  }

  toJSON(): PrincipalComponentsJson {
    return {
      dim: this.dim,
      components: Array.from({ length: this.count }, (_, c) => Array.from(this.components.subarray(c * this.dim, (c + 1) * this.dim))),
      eigenvalues: Array.from(this.eigenvalues)
    }
  }

  static fromJSON(json: PrincipalComponentsJson): PrincipalComponents {
    const { dim } = json
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`PrincipalComponents.fromJSON: dim must be a positive integer, got ${dim}`)
    if (json.components.length !== json.eigenvalues.length || json.components.some((c) => c.length !== dim)) {
      throw new RangeError(`PrincipalComponents.fromJSON: expected ${json.eigenvalues.length} components of ${dim} numbers`)
    }
    return new PrincipalComponents(dim, Float64Array.from(json.components.flat()), Float64Array.from(json.eigenvalues))
  }
}

/** Fits the top `components` directions on `data` and removes them from the same rows. */
export const removePrincipalComponents = (data: Float32Array, dim: number, components = 1): Float32Array =>
  PrincipalComponents.fit(data, dim, { components }).apply(data)

const checkShape = (data: Float32Array, dim: number, where: string): void => {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`${where}: dim must be a positive integer, got ${dim}`)
  if (data.length % dim !== 0) throw new RangeError(`${where}: ${data.length} values is not a whole number of rows of ${dim}`)
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}

const axpy = (y: Float64Array, x: ArrayLike<number>, alpha: number): void => {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i]!
}

const normalize = (v: Float64Array): number => {
  const n = Math.sqrt(dot(v, v))
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / n
  return n
}

const matvec = (m: Float64Array, v: Float64Array, out: Float64Array, dim: number): void => {
  for (let i = 0; i < dim; i++) {
    let s = 0
    const o = i * dim
    for (let j = 0; j < dim; j++) s += m[o + j]! * v[j]!
    out[i] = s
  }
}

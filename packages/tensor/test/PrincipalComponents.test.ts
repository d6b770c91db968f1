import { describe, expect, it } from "vitest"
import { PrincipalComponents, removePrincipalComponents } from "../src/index.js"

/** Seeded uniform [0, 1) (mulberry32). */
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Rows with a shared offset and decaying per-axis spread, like sentence embeddings. */
const data = (rows: number, dim: number, seed: number): Float32Array => {
  const u = rng(seed)
  const offset = Array.from({ length: dim }, () => u() - 0.5)
  const out = new Float32Array(rows * dim)
  for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) out[r * dim + j] = offset[j]! * 3 + (u() - 0.5) / (1 + j)
  return out
}

/** Float64 reference: all eigenpairs of the symmetric XᵀX by cyclic Jacobi rotations. */
const jacobiEigen = (x: Float32Array, dim: number): { values: number[]; vectors: number[][] } => {
  const a = Array.from({ length: dim }, () => new Array<number>(dim).fill(0))
  for (let r = 0; r < x.length / dim; r++) for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) a[i]![j]! += x[r * dim + i]! * x[r * dim + j]!
  const v = Array.from({ length: dim }, (_, i) => Array.from({ length: dim }, (_, j): number => (i === j ? 1 : 0)))
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0
    for (let p = 0; p < dim; p++) for (let q = p + 1; q < dim; q++) off += a[p]![q]! ** 2
    if (off < 1e-22) break
    for (let p = 0; p < dim; p++) {
      for (let q = p + 1; q < dim; q++) {
        if (Math.abs(a[p]![q]!) < 1e-300) continue
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!)
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const s = t * c
        for (let k = 0; k < dim; k++) {
          const akp = a[k]![p]!
          const akq = a[k]![q]!
          a[k]![p] = c * akp - s * akq
          a[k]![q] = s * akp + c * akq
        }
        for (let k = 0; k < dim; k++) {
          const apk = a[p]![k]!
          const aqk = a[q]![k]!
          a[p]![k] = c * apk - s * aqk
          a[q]![k] = s * apk + c * aqk
        }
        for (let k = 0; k < dim; k++) {
          const vkp = v[k]![p]!
          const vkq = v[k]![q]!
          v[k]![p] = c * vkp - s * vkq
          v[k]![q] = s * vkp + c * vkq
        }
      }
    }
  }
  const order = Array.from({ length: dim }, (_, i) => i).sort((i, j) => a[j]![j]! - a[i]![i]!)
  return { values: order.map((i) => a[i]![i]!), vectors: order.map((i) => v.map((row) => row[i]!)) }
}

describe("PrincipalComponents (uncentred, power iteration)", () => {
  const dim = 12
  const x = data(300, dim, 7)
  const ref = jacobiEigen(x, dim)

  it("finds the top eigenpairs of XᵀX as a float64 Jacobi reference does", () => {
    const pc = PrincipalComponents.fit(x, dim, { components: 3 })
    expect(pc.count).toBe(3)
    for (let c = 0; c < 3; c++) {
      expect(pc.eigenvalues[c]! / ref.values[c]!).toBeCloseTo(1, 9)
      const u = Array.from(pc.components.subarray(c * dim, (c + 1) * dim))
      const cos = u.reduce((s, ui, j) => s + ui * ref.vectors[c]![j]!, 0)
      expect(Math.abs(cos)).toBeCloseTo(1, 8)
    }
  })

  it("apply removes exactly the projection on the fitted directions", () => {
    const pc = PrincipalComponents.fit(x, dim, { components: 2 })
    const y = pc.apply(x)
    const u0 = pc.components.subarray(0, dim)
    for (let r = 0; r < 300; r++) {
      let proj = 0
      let before = 0
      for (let j = 0; j < dim; j++) {
        proj += y[r * dim + j]! * u0[j]!
        before += x[r * dim + j]! * u0[j]!
      }
      expect(Math.abs(proj)).toBeLessThan(1e-5 * Math.max(1, Math.abs(before)))
      // Float64 reference of x - (x·u0)u0 - (x·u1)u1.
      const u1 = pc.components.subarray(dim, 2 * dim)
      let p1 = 0
      for (let j = 0; j < dim; j++) p1 += x[r * dim + j]! * u1[j]!
      for (let j = 0; j < dim; j++) expect(y[r * dim + j]).toBeCloseTo(x[r * dim + j]! - before * u0[j]! - p1 * u1[j]!, 5)
    }
    // Fitted once, applied to other rows: the transform is reusable.
    const other = data(5, dim, 99)
    const once = pc.apply(other)
    pc.apply(once).forEach((v, i) => expect(v).toBeCloseTo(once[i]!, 6))
  })

  it("round-trips through JSON and is deterministic", () => {
    const pc = PrincipalComponents.fit(x, dim)
    const back = PrincipalComponents.fromJSON(JSON.parse(JSON.stringify(pc.toJSON())))
    expect(back.apply(x)).toEqual(pc.apply(x))
    expect(PrincipalComponents.fit(x, dim).components).toEqual(pc.components)
    expect(removePrincipalComponents(x, dim)).toEqual(pc.apply(x))
  })

  it("handles repeated eigenvalues and zero data, and names bad shapes", () => {
    // Columns with equal energy: the top eigenvalue is repeated; any unit vector in it is valid.
    const iso = new Float32Array([1, 0, 0, 1, -1, 0, 0, -1])
    const pc = PrincipalComponents.fit(iso, 2)
    expect(pc.eigenvalues[0]).toBeCloseTo(2, 12)
    expect(Math.hypot(...pc.components)).toBeCloseTo(1, 12)
    const zero = PrincipalComponents.fit(new Float32Array(6), 3)
    expect(zero.count).toBe(0)
    expect(zero.apply(new Float32Array([1, 2, 3]))).toEqual(new Float32Array([1, 2, 3]))
    expect(PrincipalComponents.fit(new Float32Array([1, 1, 0, 2, 2, 0]), 3, { components: 3 }).count).toBe(1)
    expect(() => PrincipalComponents.fit(new Float32Array(5), 2)).toThrow(/5 values is not a whole number of rows of 2/)
    expect(() => PrincipalComponents.fit(x, dim, { components: 13 })).toThrow(/components must be an integer in \[1, 12\], got 13/)
  })
})

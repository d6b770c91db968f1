/**
 * Seeded random unit vectors (Gaussian directions), the synthetic corpus of tests and benchmarks.
 * mulberry32 + Box-Muller: the same seed gives the same vectors on every platform.
 */
export const randomUnitVectors = (n: number, dim: number, seed: number): Float32Array => {
  let a = seed >>> 0
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296
  }
  const out = new Float32Array(n * dim)
  for (let i = 0; i < n; i++) {
    let norm = 0
    for (let j = 0; j < dim; j += 2) {
      const r = Math.sqrt(-2 * Math.log(uniform()))
      const theta = 2 * Math.PI * uniform()
      out[i * dim + j] = r * Math.cos(theta)
      if (j + 1 < dim) out[i * dim + j + 1] = r * Math.sin(theta)
    }
    for (let j = 0; j < dim; j++) norm += out[i * dim + j] ** 2
    const inv = 1 / Math.sqrt(norm)
    for (let j = 0; j < dim; j++) out[i * dim + j] *= inv
  }
  return out
}

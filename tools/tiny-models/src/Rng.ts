/**
 * Seeded pseudo-random numbers (splitmix32 seeding a mulberry32 stream), so every tiny model is a
 * pure function of its seed.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number
  /** Standard normal (Box-Muller). */
  readonly normal: () => number
}

const splitmix32 = (seed: number): number => {
  let z = (seed + 0x9e3779b9) | 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

export const makeRng = (seed: number): Rng => {
  let state = splitmix32(seed)
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const normal = (): number => {
    const u = 1 - next() // (0, 1]: log is finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next())
  }
  return { next, normal }
}

/** n normal draws scaled by std, plus mean. */
export const normalArray = (rng: Rng, n: number, std: number, mean = 0): Float32Array => {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = mean + std * rng.normal()
  return out
}

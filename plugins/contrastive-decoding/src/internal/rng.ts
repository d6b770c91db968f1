/**
 * Seeded uniform numbers (splitmix32 seeding a mulberry32 stream): every sampled token is a pure
 * function of the stage seed and the sequence it belongs to.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number
}

const splitmix32 = (seed: number): number => {
  let z = (seed + 0x9e3779b9) | 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

export const makeRng = (seed: number): Rng => {
  let state = splitmix32(seed)
  return {
    next: () => {
      state = (state + 0x6d2b79f5) | 0
      let t = Math.imul(state ^ (state >>> 15), 1 | state)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
  }
}

/** FNV-1a of `seed:name`, so each sequence gets a stream independent of batch order. */
export const childSeed = (seed: number, name: string): number => {
  let h = 0x811c9dc5
  const s = `${seed}:${name}`
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

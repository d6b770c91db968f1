/** Seeded PRNG (sfc32 seeded through splitmix32), so sampling never touches Math.random. */
export interface Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number
}

const splitmix32 = (state: { s: number }): number => {
  state.s = (state.s + 0x9e3779b9) | 0
  let z = state.s
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

/** One independent stream per (seed, stream) pair: row i of a batch samples the same way whatever the other rows are. */
export const makeRng = (seed: number, stream = 0): Rng => {
  const st = { s: (Math.trunc(seed) ^ Math.imul(stream + 1, 0x27d4eb2f)) | 0 }
  let a = splitmix32(st)
  let b = splitmix32(st)
  let c = splitmix32(st)
  let d = splitmix32(st)
  const next32 = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < 12; i++) next32()
  return { next: () => next32() / 4294967296 }
}
